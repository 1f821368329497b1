import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { readApkIndexArchive, writeApkIndexArchive } from "@tailor/apk";
import { Code, TailorError } from "@tailor/grpc";
import { catalogV1, resolverV1 } from "@tailor/proto";
import { testLogger } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import type { EntitledIndexSources } from "./entitled-index.js";
import { ArchNotServedError, buildEntitledIndex, indexEntryFromCatalog } from "./entitled-index.js";
import { createEntitledIndexCache } from "./entitled-index-cache.js";

const CHECKSUM = `Q1${Buffer.alloc(20, 1).toString("base64")}`;
const OTHER_CHECKSUM = `Q1${Buffer.alloc(20, 2).toString("base64")}`;

function pkg(init: MessageInitShape<typeof catalogV1.PackageSchema>): catalogV1.Package {
  return create(catalogV1.PackageSchema, {
    arch: "x86_64",
    checksum: CHECKSUM,
    size: 100n,
    installedSize: 200n,
    ...init,
  });
}

/** A resolver and catalog answering from fixed lists. */
function sources(
  entitled: Record<string, string[]>,
  repositories: { name: string; arches: string[]; packages: catalogV1.Package[] }[],
): EntitledIndexSources {
  return {
    logger: testLogger(),
    resolver: {
      async entitledPackages(request) {
        if (request.arch !== "x86_64") {
          throw new TailorError(Code.FAILED_PRECONDITION, "no such arch", {
            reason: "arch_not_available",
          });
        }
        return create(resolverV1.EntitledPackagesResponseSchema, {
          packages: Object.entries(entitled).map(([name, versions]) => ({ name, versions })),
        });
      },
    },
    catalog: {
      async listRepositories() {
        return create(catalogV1.ListRepositoriesResponseSchema, {
          repositories: repositories.map(({ name, arches }) => ({ name, arches })),
        });
      },
      listIndexEntries(request) {
        const found = repositories.find((r) => r.name === request.repository);
        if (found === undefined || !found.arches.includes(request.arch ?? "")) {
          throw new Error(`asked for ${request.repository}/${request.arch}`);
        }
        return (async function* () {
          yield create(catalogV1.ListIndexEntriesResponseSchema, { packages: found.packages });
        })();
      },
    },
  };
}

const ORG = { id: "0b5c9a52-0000-4000-8000-000000000001", name: "acme" };

describe("an organization's APK index", () => {
  it("keeps every field apk reads from the catalog entry", async () => {
    const entry = indexEntryFromCatalog(
      pkg({
        repository: "wolfi",
        name: "py3-tool",
        version: "1.2.3-r4",
        description: "a tool",
        url: "https://example.test/tool",
        license: "Apache-2.0",
        origin: "tool",
        maintainer: "Someone <someone@example.test>",
        buildTime: timestampFromDate(new Date(1_700_000_000_000)),
        commit: "abc123",
        providerPriority: 10,
        depends: ["so:libc.musl-x86_64.so.1", "python-3.12"],
        provides: ["cmd:tool=1.2.3-r4", "py3.12-tool=1.2.3-r4"],
        installIf: ["tool=1.2.3-r4", "python3"],
      }),
    );
    const archive = await writeApkIndexArchive({ entries: [entry] });
    const [read] = (await readApkIndexArchive(archive)).entries;
    expect(read).toEqual({
      checksum: CHECKSUM,
      name: "py3-tool",
      version: "1.2.3-r4",
      arch: "x86_64",
      size: 100,
      installedSize: 200,
      description: "a tool",
      url: "https://example.test/tool",
      license: "Apache-2.0",
      origin: "tool",
      maintainer: "Someone <someone@example.test>",
      buildTime: 1_700_000_000,
      commit: "abc123",
      providerPriority: 10,
      depends: ["so:libc.musl-x86_64.so.1", "python-3.12"],
      provides: ["cmd:tool=1.2.3-r4", "py3.12-tool=1.2.3-r4"],
      installIf: ["tool=1.2.3-r4", "python3"],
    });
  });

  it("lists only entitled versions, once each, from the first repository that has them", async () => {
    const index = await buildEntitledIndex(
      sources({ tool: ["2.0-r0", "1.0-r0"], jq: ["1.6-r0"] }, [
        {
          name: "hosted",
          arches: ["x86_64"],
          packages: [
            pkg({ repository: "hosted", name: "tool", version: "2.0-r0" }),
            pkg({ repository: "hosted", name: "secret", version: "1.0-r0" }),
          ],
        },
        { name: "arm-only", arches: ["aarch64"], packages: [] },
        {
          name: "upstream",
          arches: ["x86_64"],
          packages: [
            pkg({
              repository: "upstream",
              name: "tool",
              version: "2.0-r0",
              checksum: OTHER_CHECKSUM,
            }),
            pkg({ repository: "upstream", name: "tool", version: "1.0-r0" }),
            pkg({ repository: "upstream", name: "tool", version: "0.9-r0" }),
            pkg({ repository: "upstream", name: "jq", version: "1.6-r0" }),
          ],
        },
      ]),
      ORG,
      "x86_64",
      {},
      new Date(),
    );
    expect(index.entries.map((e) => `${e.name}-${e.version}`)).toEqual([
      "jq-1.6-r0",
      "tool-2.0-r0",
      "tool-1.0-r0",
    ]);
    expect(index.files.get("tool-2.0-r0.apk")).toMatchObject({
      repository: "hosted",
      entry: { checksum: CHECKSUM },
    });
    expect(index.files.get("tool-1.0-r0.apk")?.repository).toBe("upstream");
    expect(index.files.has("secret-1.0-r0.apk")).toBe(false);
  });

  it("leaves out an entry that cannot be written instead of failing the whole index", async () => {
    const index = await buildEntitledIndex(
      sources({ good: ["1-r0"], bad: ["1-r0"] }, [
        {
          name: "hosted",
          arches: ["x86_64"],
          packages: [
            pkg({ name: "good", version: "1-r0" }),
            pkg({ name: "bad", version: "1-r0", description: "two\nlines" }),
          ],
        },
      ]),
      ORG,
      "x86_64",
      {},
      new Date(),
    );
    expect(index.entries.map((e) => e.name)).toEqual(["good"]);
  });

  it("says an arch the resolver does not know is not served", async () => {
    await expect(
      buildEntitledIndex(sources({}, []), ORG, "riscv64", {}, new Date()),
    ).rejects.toBeInstanceOf(ArchNotServedError);
  });
});

describe("the index cache", () => {
  const build = (label: string) => async () => ({
    org: ORG,
    arch: label,
    builtAt: new Date(),
    entries: [],
    files: new Map(),
  });

  it("reuses an index for its window and builds again after it", async () => {
    let now = new Date("2026-12-01T00:00:00Z");
    const cache = createEntitledIndexCache({ ttlSeconds: 30, now: () => now });
    const first = await cache.get(ORG, "x86_64", build("first"));
    now = new Date(now.getTime() + 29_000);
    expect(await cache.get(ORG, "x86_64", build("second"))).toBe(first);
    now = new Date(now.getTime() + 1_000);
    expect((await cache.get(ORG, "x86_64", build("third"))).arch).toBe("third");
  });

  it("builds on every request with a window of 0 and never keeps a failed build", async () => {
    const now = new Date();
    const never = createEntitledIndexCache({ ttlSeconds: 0, now: () => now });
    await never.get(ORG, "x86_64", build("first"));
    expect((await never.get(ORG, "x86_64", build("second"))).arch).toBe("second");

    const cache = createEntitledIndexCache({ ttlSeconds: 60, now: () => now });
    await expect(
      cache.get(ORG, "x86_64", async () => {
        throw new Error("resolver down");
      }),
    ).rejects.toThrow("resolver down");
    expect((await cache.get(ORG, "x86_64", build("retry"))).arch).toBe("retry");
  });
});
