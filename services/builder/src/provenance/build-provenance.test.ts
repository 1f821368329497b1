import { describe, expect, it } from "vitest";
import { createBuildProvenance } from "./build-provenance.js";

const input = {
  buildId: "0192f7a0-0000-7000-8000-000000000001",
  orgId: "org-1",
  repository: "acme/api",
  customImage: "api",
  trigger: "manual",
  createdAt: new Date("2026-11-28T00:00:00Z"),
  subjects: { image: `sha256:${"a".repeat(64)}`, dev: `sha256:${"b".repeat(64)}` },
  locked: {
    sourceImage: "python",
    sourceImageGeneration: 3,
    sourceImageVersion: "3.12.7-r1",
    revision: 2,
    sourceDateEpoch: "2026-11-01T00:00:00.000Z",
    builderVersion: "0.1.0",
    variants: [
      {
        variant: "image" as const,
        arch: "x86_64",
        packages: [
          {
            name: "musl",
            version: "1.2.5-r0",
            arch: "x86_64",
            repository: "alpine",
            // Q1 + base64 of 20 bytes 0x01..0x14
            checksum: `Q1${Buffer.from(Array.from({ length: 20 }, (_, i) => i + 1)).toString("base64")}`,
            pinned: true,
          },
        ],
      },
    ],
  },
};

describe("createBuildProvenance", () => {
  it("names the images, the request, every package and the builder, the same bytes every time", () => {
    const first = createBuildProvenance(input);
    const again = createBuildProvenance(input);
    expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
    expect(again.digest).toBe(first.digest);
    const statement = JSON.parse(new TextDecoder().decode(first.bytes));
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(statement.subject).toEqual([
      { name: "acme/api:dev", digest: { sha256: "b".repeat(64) } },
      { name: "acme/api", digest: { sha256: "a".repeat(64) } },
    ]);
    expect(statement.predicate.buildDefinition.externalParameters).toEqual({
      orgId: "org-1",
      customImage: "api",
      revision: 2,
      trigger: "manual",
    });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([
      {
        uri: "pkg:apk/musl@1.2.5-r0?arch=x86_64&repository=alpine",
        digest: { sha1: "0102030405060708090a0b0c0d0e0f1011121314" },
      },
    ]);
    expect(statement.predicate.runDetails.builder.version).toEqual({ tailor: "0.1.0" });
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(input.buildId);
  });
});
