import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { readApkIndexArchive, writeApkIndexArchive } from "@tailor/apk";
import { Code, TailorError } from "@tailor/grpc";
import { catalogV1, resolverV1 } from "@tailor/proto";
import { testLogger } from "@tailor/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EntitledIndexSources } from "./entitled-index.js";
import { ArchNotServedError, buildEntitledIndex, indexEntryFromCatalog } from "./entitled-index.js";
import { createEntitledIndexCache, estimatedIndexBytes } from "./entitled-index-cache.js";

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
  /** An index of `count` packages, as large as a busy organization's. */
  const buildLarge = (label: string, count: number) => async () => {
    const entries = Array.from({ length: count }, (_, i) =>
      indexEntryFromCatalog(pkg({ name: `package-${i}`, version: "1.0-r0", description: label })),
    );
    return {
      org: ORG,
      arch: label,
      builtAt: new Date(),
      entries,
      files: new Map(
        entries.map((entry) => [`${entry.name}-${entry.version}.apk`, { entry, repository: "r" }]),
      ),
    };
  };
  const org = (n: number) => ({ id: `0b5c9a52-0000-4000-8000-00000000000${n}`, name: `org${n}` });

  afterEach(() => {
    vi.useRealTimers();
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

  it("drops expired indexes when the next one is built, so idle organizations cost no memory", async () => {
    let now = new Date("2026-12-01T00:00:00Z");
    const cache = createEntitledIndexCache({ ttlSeconds: 30, now: () => now });
    try {
      await cache.get(org(1), "x86_64", build("one"));
      await cache.get(org(2), "x86_64", build("two"));
      now = new Date(now.getTime() + 20_000);
      await cache.get(org(3), "x86_64", build("three"));
      expect(cache.size).toBe(3);
      now = new Date(now.getTime() + 15_000); // one and two expired, three has 15 s left
      await cache.get(org(4), "x86_64", build("four"));
      expect(cache.size).toBe(2);
      expect((await cache.get(org(3), "x86_64", build("again"))).arch).toBe("three");
    } finally {
      cache.close();
    }
  });

  it("sweeps expired indexes on a timer too, with no request coming", async () => {
    vi.useFakeTimers();
    let now = new Date("2026-12-01T00:00:00Z");
    const cache = createEntitledIndexCache({ ttlSeconds: 30, now: () => now });
    try {
      await cache.get(org(1), "x86_64", buildLarge("one", 50));
      await cache.get(org(2), "aarch64", buildLarge("two", 50));
      expect(cache.size).toBe(2);
      expect(cache.bytes).toBeGreaterThan(0);
      now = new Date(now.getTime() + 31_000);
      vi.advanceTimersByTime(31_000);
      expect(cache.size).toBe(0);
      expect(cache.bytes).toBe(0);
    } finally {
      cache.close();
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps at most maxEntries indexes and at most maxBytes of them, dropping the oldest", async () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const byCount = createEntitledIndexCache({ ttlSeconds: 60, now: () => now, maxEntries: 2 });
    await byCount.get(org(1), "x86_64", build("one"));
    await byCount.get(org(2), "x86_64", build("two"));
    await byCount.get(org(3), "x86_64", build("three"));
    expect(byCount.size).toBe(2);
    expect((await byCount.get(org(1), "x86_64", build("one again"))).arch).toBe("one again");
    byCount.close();

    const one = await buildLarge("sample", 200)();
    const perIndex = estimatedIndexBytes(one);
    expect(perIndex).toBeGreaterThan(200 * 100);
    const byBytes = createEntitledIndexCache({
      ttlSeconds: 60,
      now: () => now,
      maxBytes: Math.floor(perIndex * 2.5),
    });
    try {
      for (const n of [1, 2, 3]) await byBytes.get(org(n), "x86_64", buildLarge(`org${n}`, 200));
      expect(byBytes.size).toBe(2);
      expect(byBytes.bytes).toBeLessThanOrEqual(perIndex * 2.5);
      expect((await byBytes.get(org(3), "x86_64", build("rebuilt"))).arch).toBe("org3");
      expect((await byBytes.get(org(1), "x86_64", build("rebuilt"))).arch).toBe("rebuilt");

      // An index larger than the whole budget is served but not kept.
      const huge = await byBytes.get(org(4), "x86_64", buildLarge("huge", 600));
      expect(huge.entries).toHaveLength(600);
      expect(byBytes.bytes).toBeLessThanOrEqual(perIndex * 2.5);
      expect((await byBytes.get(org(4), "x86_64", build("rebuilt"))).arch).toBe("rebuilt");
    } finally {
      byBytes.close();
    }
  });
});
