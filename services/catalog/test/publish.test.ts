// PublishPackage into hosted repositories: signed uploads accepted once,
// everything else refused with the precise reason; real Wolfi and Alpine
// packages with their real keys.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readPackage } from "@tailor/apk";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import { describeWithFixtures, rejection } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSigningKey } from "./support/apk-repositories.js";
import { alpineKey, buildPackage, createTestSigningKey } from "./support/apk-repositories.js";
import { readPackageEvents } from "./support/package-events.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";

const { HOSTED, UPSTREAM } = catalogV1.RepositoryKind;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function uploadEvents(catalog: RunningCatalog, repository: string) {
  return (await readPackageEvents(catalog.nats)).filter(
    (stored) => stored.event.repository === repository,
  );
}

describe("publishing packages", () => {
  let catalog: RunningCatalog;
  let key: TestSigningKey;

  beforeAll(async () => {
    catalog = await startCatalog();
    key = createTestSigningKey("uploads.rsa.pub");
    await catalog.client.createRepository(
      {
        name: "uploads",
        kind: HOSTED,
        arches: ["x86_64", "aarch64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
  });

  afterAll(async () => {
    await catalog?.stop();
  });

  it("accepts a package signed by a trusted key, stores its bytes and announces it once", async () => {
    const bytes = await buildPackage(
      {
        name: "acme-agent",
        version: "2.1.0-r0",
        description: "ACME monitoring agent",
        provides: ["cmd:acme-agent=2.1.0-r0"],
        depends: ["ca-certificates"],
        origin: "acme",
      },
      key.signer,
    );
    const { checksum } = await readPackage(bytes);
    const published = await catalog.client.publishPackage(
      { repository: "uploads", content: bytes },
      catalog.admin,
    );
    expect(published.package).toMatchObject({
      repository: "uploads",
      arch: "x86_64",
      name: "acme-agent",
      version: "2.1.0-r0",
      checksum,
      size: BigInt(bytes.byteLength),
      description: "ACME monitoring agent",
      provides: ["cmd:acme-agent=2.1.0-r0"],
      depends: ["ca-certificates"],
      blobDigest: sha256(bytes),
      file: "x86_64/acme-agent-2.1.0-r0.apk",
    });
    expect(await catalog.blobs.has(sha256(bytes))).toBe(true);
    const events = await uploadEvents(catalog, "uploads");
    expect(events).toEqual([
      {
        msgId: `pkg.published:uploads:x86_64:acme-agent:2.1.0-r0:${checksum}`,
        event: expect.objectContaining({
          name: "acme-agent",
          version: "2.1.0-r0",
          arch: "x86_64",
          checksum,
          via: "upload",
          origin: "acme",
        }),
      },
    ]);

    const again = await catalog.client.publishPackage(
      { repository: "uploads", content: bytes },
      catalog.admin,
    );
    expect(again.package?.checksum).toBe(checksum);
    expect(await uploadEvents(catalog, "uploads")).toHaveLength(1);

    const fetched = await catalog.client.fetchPackage(
      { repository: "uploads", arch: "x86_64", name: "acme-agent", version: "2.1.0-r0" },
      catalog.admin,
    );
    expect(fetched).toMatchObject({
      downloaded: false,
      blobDigest: sha256(bytes),
      size: BigInt(bytes.byteLength),
    });
    expect(
      (await catalog.client.getRepository({ name: "uploads" }, catalog.admin)).repository
        ?.packageCount,
    ).toBe(1n);
  });

  it("refuses another package under a name and version that exist", async () => {
    const other = await buildPackage(
      { name: "acme-agent", version: "2.1.0-r0", description: "rebuilt" },
      key.signer,
    );
    const error = await rejection(
      catalog.client.publishPackage({ repository: "uploads", content: other }, catalog.admin),
    );
    expect(error.code).toBe(Code.ALREADY_EXISTS);
    expect(error.reason).toBe("package_version_exists");
    expect(error.message).toContain(
      "package uploads/x86_64/acme-agent-2.1.0-r0 already exists with checksum",
    );
    expect(error.message).toContain("publish a new version");
  });

  it("lists a noarch package under every arch of the repository", async () => {
    const bytes = await buildPackage(
      { name: "acme-certs", version: "1-r0", arch: "noarch" },
      key.signer,
    );
    const published = await catalog.client.publishPackage(
      { repository: "uploads", content: bytes },
      catalog.admin,
    );
    expect(published.package?.arch).toBe("x86_64");
    const versions = await catalog.client.listPackageVersions(
      { name: "acme-certs" },
      catalog.admin,
    );
    expect(versions.packages.map((pkg) => pkg.arch).sort()).toEqual(["aarch64", "x86_64"]);
    const events = (await uploadEvents(catalog, "uploads")).filter(
      (stored) => stored.event.name === "acme-certs",
    );
    expect(events.map((stored) => stored.event.arch).sort()).toEqual(["aarch64", "x86_64"]);
  });

  it("accepts bytes already in the blob store by digest", async () => {
    const bytes = await buildPackage({ name: "acme-cli", version: "0.9.0-r0" }, key.signer);
    const { digest } = await catalog.blobs.put(bytes);
    const published = await catalog.client.publishPackage(
      { repository: "uploads", blobDigest: digest },
      catalog.admin,
    );
    expect(published.package).toMatchObject({
      name: "acme-cli",
      blobDigest: digest,
      size: BigInt(bytes.byteLength),
    });

    const unknown = `sha256:${"0".repeat(64)}`;
    const missing = await rejection(
      catalog.client.publishPackage({ repository: "uploads", blobDigest: unknown }, catalog.admin),
    );
    expect(missing).toMatchObject({ code: Code.NOT_FOUND, field: "blob_digest" });
    expect(missing.message).toContain(unknown);
    const both = await rejection(
      catalog.client.publishPackage(
        { repository: "uploads", content: bytes, blobDigest: digest },
        catalog.admin,
      ),
    );
    expect(both).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      field: "blob_digest",
      message: "give either content or blob_digest, not both",
    });
    const neither = await rejection(
      catalog.client.publishPackage({ repository: "uploads" }, catalog.admin),
    );
    expect(neither).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "content" });
    const malformed = await rejection(
      catalog.client.publishPackage(
        { repository: "uploads", blobDigest: "sha256:xyz" },
        catalog.admin,
      ),
    );
    expect(malformed).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "blob_digest" });
  });

  it("refuses unsigned, untrusted, badly signed, corrupt and foreign-arch packages, storing nothing", async () => {
    const before = (await catalog.client.getRepository({ name: "uploads" }, catalog.admin))
      .repository?.packageCount;

    const unsigned = await rejection(
      catalog.client.publishPackage(
        { repository: "uploads", content: await buildPackage({ name: "x", version: "1-r0" }) },
        catalog.admin,
      ),
    );
    expect(unsigned).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      reason: "invalid_package",
      field: "content",
    });
    expect(unsigned.message).toContain("the package is not signed");

    const stranger = createTestSigningKey("stranger.rsa.pub");
    const untrusted = await rejection(
      catalog.client.publishPackage(
        {
          repository: "uploads",
          content: await buildPackage({ name: "x", version: "1-r0" }, stranger.signer),
        },
        catalog.admin,
      ),
    );
    expect(untrusted.code).toBe(Code.PERMISSION_DENIED);
    expect(untrusted.message).toBe(
      'package is signed by "stranger.rsa.pub", which repository "uploads" does not trust (trusted: "uploads.rsa.pub")',
    );
    expect(untrusted.metadata.keys).toBe("stranger.rsa.pub");

    const impostor = createTestSigningKey("uploads.rsa.pub");
    const bad = await rejection(
      catalog.client.publishPackage(
        {
          repository: "uploads",
          content: await buildPackage({ name: "x", version: "1-r0" }, impostor.signer),
        },
        catalog.admin,
      ),
    );
    expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.message).toContain(
      'BAD signature: key "uploads.rsa.pub" does not verify the signed bytes',
    );

    const good = await buildPackage({ name: "x", version: "1-r0" }, key.signer);
    const corrupt = await rejection(
      catalog.client.publishPackage(
        { repository: "uploads", content: good.subarray(0, good.byteLength - 100) },
        catalog.admin,
      ),
    );
    expect(corrupt.code).toBe(Code.INVALID_ARGUMENT);
    expect(corrupt.message).toMatch(/^upload[,:] /);
    const garbage = await rejection(
      catalog.client.publishPackage(
        { repository: "uploads", content: new TextEncoder().encode("not a package") },
        catalog.admin,
      ),
    );
    expect(garbage.code).toBe(Code.INVALID_ARGUMENT);
    expect(garbage.message).toMatch(/^upload[,:] /);

    const foreign = await rejection(
      catalog.client.publishPackage(
        {
          repository: "uploads",
          content: await buildPackage({ name: "x", version: "1-r0", arch: "riscv64" }, key.signer),
        },
        catalog.admin,
      ),
    );
    expect(foreign.code).toBe(Code.INVALID_ARGUMENT);
    expect(foreign.message).toBe(
      'package x-1-r0 is built for arch "riscv64", which repository "uploads" does not have (arches: x86_64, aarch64)',
    );

    expect(
      (await catalog.client.getRepository({ name: "uploads" }, catalog.admin)).repository
        ?.packageCount,
    ).toBe(before);
    expect((await catalog.client.searchPackages({ name: "x" }, catalog.admin)).packages).toEqual(
      [],
    );
  });

  it("publishes only into hosted repositories, and only for administrators", async () => {
    await catalog.client.createRepository(
      {
        name: "upstream-only",
        kind: UPSTREAM,
        url: "https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    const bytes = await buildPackage({ name: "y", version: "1-r0" }, key.signer);
    const upstream = await rejection(
      catalog.client.publishPackage({ repository: "upstream-only", content: bytes }, catalog.admin),
    );
    expect(upstream.code).toBe(Code.FAILED_PRECONDITION);
    expect(upstream.message).toContain('repository "upstream-only" is upstream');
    const nowhere = await rejection(
      catalog.client.publishPackage({ repository: "nowhere", content: bytes }, catalog.admin),
    );
    expect(nowhere).toMatchObject({
      code: Code.NOT_FOUND,
      field: "repository",
      message: 'repository "nowhere" not found',
    });

    const owner = catalog.auth(
      catalog.memberToken("7a1c2f3e-2222-4c2e-9a55-0d6f3c1e2a10", "owner"),
    );
    const denied = await rejection(
      catalog.client.publishPackage({ repository: "uploads", content: bytes }, owner),
    );
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.message).toBe("only a platform administrator may publish packages");
    const anonymous = await rejection(
      catalog.client.publishPackage({ repository: "uploads", content: bytes }),
    );
    expect(anonymous.code).toBe(Code.UNAUTHENTICATED);
  });
});

describeWithFixtures("publishing real packages", (fixturesDir) => {
  let catalog: RunningCatalog;

  beforeAll(async () => {
    catalog = await startCatalog();
    const wolfiKey = join(fixturesDir, "wolfictl/pkg/dag/testdata/packages/wolfi-signing.rsa.pub");
    await catalog.client.createRepository(
      {
        name: "wolfi-uploads",
        kind: HOSTED,
        arches: ["aarch64"],
        trustedKeys: [{ name: "wolfi-signing.rsa.pub", pem: await readFile(wolfiKey, "utf8") }],
      },
      catalog.admin,
    );
  });

  afterAll(async () => {
    await catalog?.stop();
  });

  it("accepts a real Wolfi package signed with the Wolfi key", async () => {
    const bytes = new Uint8Array(
      await readFile(join(fixturesDir, "wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk")),
    );
    const published = await catalog.client.publishPackage(
      { repository: "wolfi-uploads", content: bytes },
      catalog.admin,
    );
    expect(published.package).toMatchObject({
      name: "hello-wolfi",
      version: "2.12-r1",
      arch: "aarch64",
      checksum: "Q1tfjaxtgIGRBjOYGl6Pq3/hm8V2o=",
      blobDigest: sha256(bytes),
    });
  });

  it("refuses a real Alpine package: its key is not one the repository trusts", async () => {
    const bytes = new Uint8Array(
      await readFile(
        join(fixturesDir, "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk"),
      ),
    );
    const error = await rejection(
      catalog.client.publishPackage({ repository: "wolfi-uploads", content: bytes }, catalog.admin),
    );
    expect(error.code).toBe(Code.PERMISSION_DENIED);
    expect(error.message).toBe(
      `package is signed by "${(await alpineKey(fixturesDir, "616ae350")).name}", which repository "wolfi-uploads" does not trust (trusted: "wolfi-signing.rsa.pub")`,
    );
  });
});
