// Package queries and lazy fetching against the real Alpine v3.16 index and
// real Alpine .apk files served over HTTP, plus a synthetic repository with
// several versions and providers.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readPackage } from "@tailor/apk";
import { readBlob } from "@tailor/blob";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import { describeWithFixtures, rejection } from "@tailor/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  alpineFixtures,
  alpineKey,
  buildPackage,
  createTestSigningKey,
  layOutAlpineRepository,
  writeSyntheticRepository,
} from "./support/apk-repositories.js";
import type { RepositoryServer } from "./support/repository-server.js";
import { serveRepositories } from "./support/repository-server.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";

const { UPSTREAM } = catalogV1.RepositoryKind;
const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describeWithFixtures("packages", (fixturesDir) => {
  let root: string;
  let server: RepositoryServer;
  let catalog: RunningCatalog;
  let viewer: ReturnType<RunningCatalog["auth"]>;
  const fixtures = alpineFixtures(fixturesDir);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tailor-catalog-packages-"));
    server = await serveRepositories(root);
    catalog = await startCatalog();
    viewer = catalog.auth(catalog.memberToken("4b0f3a8e-1111-4c2e-9a55-0d6f3c1e2a10", "viewer"));
    const trusted = await alpineKey(fixturesDir, "6165ee59");

    // The real index with real packages; curl's file is another build than the index lists.
    await layOutAlpineRepository(join(root, "alpine"), fixturesDir, {
      "x86_64/strace-5.17-r0.apk": fixtures.strace,
      "x86_64/curl-7.83.1-r4.apk": fixtures.curlR1,
    });
    // The same index, serving a strace whose data was altered after signing.
    const strace = new Uint8Array(await readFile(fixtures.strace));
    const { segments } = await readPackage(strace);
    const tampered = strace.slice();
    const at = segments.data.offset + Math.floor(segments.data.length / 2);
    tampered[at] = (tampered[at] ?? 0) ^ 0xff;
    await layOutAlpineRepository(join(root, "alpine-tampered"), fixturesDir, {
      "x86_64/strace-5.17-r0.apk": tampered,
    });

    for (const name of ["alpine", "alpine-tampered"]) {
      await catalog.client.createRepository(
        {
          name,
          kind: UPSTREAM,
          url: `${server.url}/${name}`,
          arches: ["x86_64"],
          trustedKeys: [trusted],
        },
        catalog.admin,
      );
      await catalog.client.syncRepository({ name }, catalog.admin);
    }

    // Versions whose apk order differs from string order, and providers with priorities.
    const key = createTestSigningKey("versions.rsa.pub");
    const built = [];
    for (const version of ["1.2.9-r0", "1.2.10_rc1-r0", "1.2.10-r0", "1.10-r0"]) {
      built.push(
        await buildPackage({ name: "tool", version, description: "a versioned tool" }, key.signer),
      );
    }
    built.push(
      await buildPackage(
        {
          name: "busybox-binsh",
          version: "1.36.1-r0",
          provides: ["cmd:sh=1.36.1-r0"],
          providerPriority: 100,
        },
        key.signer,
      ),
    );
    built.push(
      await buildPackage(
        {
          name: "dash-binsh",
          version: "0.5.12-r0",
          provides: ["cmd:sh=0.5.12-r0"],
          providerPriority: 60,
        },
        key.signer,
      ),
    );
    built.push(
      await buildPackage(
        { name: "yash-binsh", version: "2.55-r0", provides: ["cmd:sh=2.55-r0"] },
        key.signer,
      ),
    );
    await writeSyntheticRepository(join(root, "extra"), "x86_64", built, key.signer);
    await catalog.client.createRepository(
      {
        name: "extra",
        kind: UPSTREAM,
        url: `${server.url}/extra`,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "extra" }, catalog.admin);
  });

  afterAll(async () => {
    await catalog?.stop();
    await server?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("fetches a package on first use, verifies it against the index, and stores it once", async () => {
    const request = { repository: "alpine", arch: "x86_64", name: "strace", version: "5.17-r0" };
    const before = await catalog.client.getPackage(request, viewer);
    expect(before.package?.blobDigest).toBe("");
    expect(before.package?.file).toBe("x86_64/strace-5.17-r0.apk");

    const bytes = new Uint8Array(await readFile(fixtures.strace));
    const first = await catalog.client.fetchPackage(request, viewer);
    expect(first).toMatchObject({
      downloaded: true,
      blobDigest: sha256(bytes),
      size: BigInt(bytes.byteLength),
    });
    expect(first.package?.checksum).toBe("Q18y9jy9MgtvQFXTntDQ3if2axAkk=");
    expect(await readBlob(catalog.blobs, first.blobDigest, { maxBytes: 1 << 20 })).toEqual(bytes);
    expect((await catalog.client.getPackage(request, viewer)).package?.blobDigest).toBe(
      sha256(bytes),
    );

    const downloads = () =>
      server.requests.filter((path) => path === "/alpine/x86_64/strace-5.17-r0.apk").length;
    expect(downloads()).toBe(1);
    const second = await catalog.client.fetchPackage(request, viewer);
    expect(second).toMatchObject({ downloaded: false, blobDigest: first.blobDigest });
    expect(downloads()).toBe(1);
  });

  it("shares one download among concurrent fetches of a package", async () => {
    await catalog.client.createRepository(
      {
        name: "alpine-again",
        kind: UPSTREAM,
        url: `${server.url}/alpine`,
        arches: ["x86_64"],
        trustedKeys: [await alpineKey(fixturesDir, "6165ee59")],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "alpine-again" }, catalog.admin);
    const before = server.requests.filter((path) => path.endsWith("/strace-5.17-r0.apk")).length;
    const request = {
      repository: "alpine-again",
      arch: "x86_64",
      name: "strace",
      version: "5.17-r0",
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => catalog.client.fetchPackage(request, viewer)),
    );
    expect(new Set(results.map((result) => result.blobDigest)).size).toBe(1);
    expect(results.filter((result) => result.downloaded)).toHaveLength(1);
    expect(
      server.requests.filter((path) => path.endsWith("/strace-5.17-r0.apk")).length - before,
    ).toBe(1);
  });

  it("refuses a download whose checksum is not the index's and stores nothing", async () => {
    const request = { repository: "alpine", arch: "x86_64", name: "curl", version: "7.83.1-r4" };
    const error = await rejection(catalog.client.fetchPackage(request, viewer));
    expect(error.code).toBe(Code.DATA_LOSS);
    expect(error.reason).toBe("package_checksum_mismatch");
    expect(error.message).toBe(
      `package alpine/x86_64/curl-7.83.1-r4 downloaded from ${server.url}/alpine/x86_64/curl-7.83.1-r4.apk has checksum Q1dHNOerPc1tLPEYaP5dYIgzfGdto=, but the signed index lists Q1NOVxoabDNZfrpRAwt11ckCqxtSg=; nothing was stored`,
    );
    expect(await catalog.blobs.has(sha256(new Uint8Array(await readFile(fixtures.curlR1))))).toBe(
      false,
    );
    expect((await catalog.client.getPackage(request, viewer)).package?.blobDigest).toBe("");
  });

  it("refuses a package altered after signing and stores nothing", async () => {
    const request = {
      repository: "alpine-tampered",
      arch: "x86_64",
      name: "strace",
      version: "5.17-r0",
    };
    const error = await rejection(catalog.client.fetchPackage(request, viewer));
    expect(error.code).toBe(Code.DATA_LOSS);
    expect(error.reason).toBe("package_corrupt");
    expect(error.message).toContain(
      "package alpine-tampered/x86_64/strace-5.17-r0 downloaded from",
    );
    expect(error.message).toContain("is damaged or altered");
    expect(error.message).toContain("nothing was stored");
    expect((await catalog.client.getPackage(request, viewer)).package?.blobDigest).toBe("");
    expect(await readdirCount(join(catalog.blobDir, "sha256"))).toBe(1); // strace only, from the first test
  });

  it("says which file upstream lacks and which package does not exist", async () => {
    const missing = await rejection(
      catalog.client.fetchPackage(
        { repository: "alpine", arch: "x86_64", name: "busybox", version: "1.35.0-r17" },
        viewer,
      ),
    );
    expect(missing.code).toBe(Code.FAILED_PRECONDITION);
    expect(missing.reason).toBe("upstream_file_missing");
    expect(missing.message).toBe(
      `${server.url}/alpine/x86_64/busybox-1.35.0-r17.apk: not found (HTTP 404)`,
    );
    const unknown = await rejection(
      catalog.client.fetchPackage(
        { repository: "alpine", arch: "x86_64", name: "busybox", version: "9.9-r0" },
        viewer,
      ),
    );
    expect(unknown.code).toBe(Code.NOT_FOUND);
    expect(unknown.message).toBe("package alpine/x86_64/busybox-9.9-r0 not found");
    const incomplete = await rejection(
      catalog.client.getPackage({ repository: "alpine", arch: "x86_64", name: "busybox" }, viewer),
    );
    expect(incomplete.code).toBe(Code.INVALID_ARGUMENT);
    expect(incomplete.field).toBe("version");
  });

  it("searches by exact name, prefix and free text, for any authenticated caller", async () => {
    const exact = await catalog.client.searchPackages(
      { name: "strace", repository: "alpine" },
      viewer,
    );
    expect(exact.packages).toHaveLength(1);
    expect(exact.packages[0]).toMatchObject({
      name: "strace",
      version: "5.17-r0",
      repository: "alpine",
      arch: "x86_64",
      license: "BSD-3-Clause",
      endOfLife: false,
    });
    expect(exact.packages[0]?.depends).toContain("so:libc.musl-x86_64.so.1");

    const text = await catalog.client.searchPackages(
      { text: "SSL  Librar", repository: "alpine", page: { size: 500 } },
      viewer,
    );
    expect(text.packages.length).toBeGreaterThan(10);
    for (const pkg of text.packages) {
      const haystack = `${pkg.name} ${pkg.description}`.toLowerCase();
      expect(haystack).toContain("ssl");
      expect(haystack).toContain("librar");
    }
    expect(text.packages.map((pkg) => pkg.name)).toEqual(
      expect.arrayContaining(["libssl1.1", "libssl3", "libcrypto1.1", "mbedtls"]),
    );
    const narrower = await catalog.client.searchPackages(
      { text: "ssl shared libraries", repository: "alpine" },
      viewer,
    );
    expect(narrower.packages.map((pkg) => pkg.name)).toEqual(["libssl1.1", "libssl3"]);

    const unauthenticated = await rejection(catalog.client.searchPackages({ name: "strace" }));
    expect(unauthenticated.code).toBe(Code.UNAUTHENTICATED);
  });

  it("pages through a prefix search in name order without gaps or repeats", async () => {
    const all = await catalog.client.searchPackages(
      { prefix: "py3-", repository: "alpine", page: { size: 500 } },
      viewer,
    );
    expect(all.page?.nextToken).toBe("");
    const names = all.packages.map((pkg) => pkg.name);
    expect(names.length).toBeGreaterThan(100);
    expect(names.every((name) => name.startsWith("py3-"))).toBe(true);
    expect([...names].sort()).toEqual(names);

    const paged: string[] = [];
    let token = "";
    do {
      const page = await catalog.client.searchPackages(
        { prefix: "py3-", repository: "alpine", page: { size: 37, token } },
        viewer,
      );
      expect(page.packages.length).toBeLessThanOrEqual(37);
      paged.push(...page.packages.map((pkg) => pkg.name));
      token = page.page?.nextToken ?? "";
    } while (token !== "");
    expect(paged).toEqual(names);

    const bad = await rejection(
      catalog.client.searchPackages({ prefix: "py3-", page: { token: "not-a-token" } }, viewer),
    );
    expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.field).toBe("page.token");
  });

  it("orders versions as apk does, newest first, and shows only the newest unless asked", async () => {
    const versions = await catalog.client.listPackageVersions({ name: "tool" }, viewer);
    expect(versions.packages.map((pkg) => pkg.version)).toEqual([
      "1.10-r0",
      "1.2.10-r0",
      "1.2.10_rc1-r0",
      "1.2.9-r0",
    ]);
    const newest = await catalog.client.searchPackages({ name: "tool" }, viewer);
    expect(newest.packages.map((pkg) => pkg.version)).toEqual(["1.10-r0"]);
    const all = await catalog.client.searchPackages({ name: "tool", allVersions: true }, viewer);
    expect(all.packages.map((pkg) => pkg.version)).toEqual([
      "1.10-r0",
      "1.2.10-r0",
      "1.2.10_rc1-r0",
      "1.2.9-r0",
    ]);
    const one = await catalog.client.getPackage(
      { repository: "extra", arch: "x86_64", name: "tool", version: "1.2.10_rc1-r0" },
      viewer,
    );
    expect(one.package?.description).toBe("a versioned tool");
  });

  it("finds the providers of a name, best first", async () => {
    const sh = await catalog.client.findProviders({ name: "cmd:sh" }, viewer);
    expect(sh.packages.slice(0, 3).map((pkg) => [pkg.name, pkg.providerPriority])).toEqual([
      ["busybox-binsh", 100],
      ["dash-binsh", 60],
      ["yash-binsh", undefined],
    ]);
    // Alpine's own busybox provides cmd:sh too, without a priority and at a lower version than yash.
    expect(
      sh.packages.slice(3).map((pkg) => `${pkg.repository}/${pkg.name}-${pkg.version}`),
    ).toEqual([
      "alpine/busybox-1.35.0-r17",
      "alpine-again/busybox-1.35.0-r17",
      "alpine-tampered/busybox-1.35.0-r17",
    ]);
    const ssl = await catalog.client.findProviders(
      { name: "so:libssl.so.1.1", arch: "x86_64" },
      viewer,
    );
    expect(new Set(ssl.packages.map((pkg) => pkg.name))).toEqual(new Set(["libssl1.1"]));
    expect(
      ssl.packages.every((pkg) =>
        pkg.provides.some((provide) => provide.startsWith("so:libssl.so.1.1")),
      ),
    ).toBe(true);
    const byName = await catalog.client.findProviders({ name: "strace" }, viewer);
    expect(byName.packages.map((pkg) => `${pkg.repository}/${pkg.name}`).sort()).toEqual([
      "alpine-again/strace",
      "alpine-tampered/strace",
      "alpine/strace",
    ]);
    expect(
      (await catalog.client.findProviders({ name: "so:nothing.so.0" }, viewer)).packages,
    ).toEqual([]);
  });

  it("streams a repository arch's index entries in batches", async () => {
    const batches: number[] = [];
    const names = new Set<string>();
    for await (const response of catalog.client.listIndexEntries(
      { repository: "alpine", arch: "x86_64" },
      viewer,
    )) {
      batches.push(response.packages.length);
      for (const pkg of response.packages) names.add(`${pkg.name}-${pkg.version}`);
    }
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(4929);
    expect(batches.every((size) => size <= 500)).toBe(true);
    expect(batches).toHaveLength(10);
    expect(names.size).toBe(4929);
    const wrongArch = await rejection(
      (async () => {
        for await (const _ of catalog.client.listIndexEntries(
          { repository: "alpine", arch: "aarch64" },
          viewer,
        )) {
          // the first message would be an error
        }
      })(),
    );
    expect(wrongArch.code).toBe(Code.INVALID_ARGUMENT);
    expect(wrongArch.message).toBe('repository "alpine" has no arch "aarch64" (arches: x86_64)');
  });
});

/** Blobs in a directory blob store's `sha256/` tree. */
async function readdirCount(dir: string): Promise<number> {
  let count = 0;
  for (const prefix of await readdir(dir)) count += (await readdir(join(dir, prefix))).length;
  return count;
}
