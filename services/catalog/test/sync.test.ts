// SyncRepository against real repositories served over HTTP, from file://
// URLs and plain directories: verification with trusted keys, incremental and
// idempotent application, events, the schedule, mirroring and the sync lease.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { connectBus, streamName } from "@tailor/bus";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import { describeWithFixtures, rejection, testLogger, waitFor } from "@tailor/testing";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSigningKey } from "./support/apk-repositories.js";
import {
  alpineFixtures,
  alpineKey,
  buildPackage,
  createTestSigningKey,
  layOutAlpineRepository,
  writeSyntheticRepository,
} from "./support/apk-repositories.js";
import { readPackageEvents } from "./support/package-events.js";
import type { RepositoryServer } from "./support/repository-server.js";
import { serveRepositories } from "./support/repository-server.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";

const { UPSTREAM } = catalogV1.RepositoryKind;

/** Three versions of a small world: v1 → v2 changes b, drops c, adds d. */
async function syntheticPackages(key: TestSigningKey) {
  return {
    a: await buildPackage({ name: "a", version: "1.0-r0", provides: ["cmd:a=1.0-r0"] }, key.signer),
    b1: await buildPackage({ name: "b", version: "1.0-r0", depends: ["a"] }, key.signer),
    b2: await buildPackage({ name: "b", version: "1.1-r0", depends: ["a"] }, key.signer),
    c: await buildPackage({ name: "c", version: "1.0-r0" }, key.signer),
    d: await buildPackage(
      { name: "d", version: "1.0-r0", provides: ["so:libd.so.1=1"] },
      key.signer,
    ),
  };
}

function millis(timestamp: Timestamp | undefined): number {
  return timestamp === undefined ? Number.NaN : timestampMs(timestamp);
}

async function eventsOf(catalog: RunningCatalog, repository: string) {
  return (await readPackageEvents(catalog.nats)).filter(
    (stored) => stored.event.repository === repository,
  );
}

describeWithFixtures("repository sync", (fixturesDir) => {
  let root: string;
  let server: RepositoryServer;
  let catalog: RunningCatalog;
  let key: TestSigningKey;
  let packages: Awaited<ReturnType<typeof syntheticPackages>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tailor-catalog-sync-"));
    server = await serveRepositories(root);
    catalog = await startCatalog();
    key = createTestSigningKey("tailor-test-1.rsa.pub");
    packages = await syntheticPackages(key);
  });

  afterAll(async () => {
    await catalog?.stop();
    await server?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("applies every package of an index signed by a trusted key, then skips the unchanged index", async () => {
    await layOutAlpineRepository(join(root, "alpine"), fixturesDir);
    const trusted = await alpineKey(fixturesDir, "6165ee59");
    await catalog.client.createRepository(
      {
        name: "alpine-main",
        kind: UPSTREAM,
        url: `${server.url}/alpine/`,
        arches: ["x86_64"],
        trustedKeys: [trusted],
      },
      catalog.admin,
    );

    const first = await catalog.client.syncRepository({ name: "alpine-main" }, catalog.admin);
    const indexBytes = await readFile(alpineFixtures(fixturesDir).index316);
    expect(first.sync?.status).toBe(catalogV1.SyncStatus.SUCCEEDED);
    expect(first.sync?.trigger).toBe("manual");
    expect(first.sync?.arches).toEqual([
      expect.objectContaining({
        arch: "x86_64",
        added: 4929,
        removed: 0,
        unchanged: 0,
        indexUnchanged: false,
        signedBy: trusted.name,
        indexDigest: `sha256:${createHash("sha256").update(indexBytes).digest("hex")}`,
      }),
    ]);
    const repository = (await catalog.client.getRepository({ name: "alpine-main" }, catalog.admin))
      .repository;
    expect(repository?.packageCount).toBe(4929n);
    expect(repository?.lastSyncedAt).toBeDefined();

    const published = await eventsOf(catalog, "alpine-main");
    expect(published).toHaveLength(4929);
    const strace = published.find((stored) => stored.event.name === "strace");
    expect(strace?.event).toMatchObject({
      version: "5.17-r0",
      arch: "x86_64",
      checksum: "Q18y9jy9MgtvQFXTntDQ3if2axAkk=",
      via: "sync",
      origin: "strace",
    });
    expect(strace?.msgId).toBe(
      "pkg.published:alpine-main:x86_64:strace:5.17-r0:Q18y9jy9MgtvQFXTntDQ3if2axAkk=",
    );

    const again = await catalog.client.syncRepository({ name: "alpine-main" }, catalog.admin);
    expect(again.sync?.arches[0]).toMatchObject({
      added: 0,
      removed: 0,
      unchanged: 4929,
      indexUnchanged: true,
    });
    expect(await eventsOf(catalog, "alpine-main")).toHaveLength(4929);
    const history = await catalog.client.listRepositorySyncs(
      { name: "alpine-main" },
      catalog.admin,
    );
    expect(history.syncs.map((sync) => sync.id)).toEqual([again.sync?.id, first.sync?.id]);
  });

  it("refuses an index signed by a key the repository does not trust, records why, and changes nothing", async () => {
    const wrongKey = await alpineKey(fixturesDir, "616ae350");
    await catalog.client.createRepository(
      {
        name: "alpine-wrong-key",
        kind: UPSTREAM,
        url: `${server.url}/alpine`,
        arches: ["x86_64"],
        trustedKeys: [wrongKey],
      },
      catalog.admin,
    );
    const error = await rejection(
      catalog.client.syncRepository({ name: "alpine-wrong-key" }, catalog.admin),
    );
    expect(error.code).toBe(Code.FAILED_PRECONDITION);
    expect(error.reason).toBe("index_untrusted");
    expect(error.message).toContain("arch x86_64");
    expect(error.message).toContain(
      'signed by "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"',
    );
    expect(error.message).toContain("does not trust");
    expect(error.metadata).toMatchObject({
      arch: "x86_64",
      keys: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
    });

    const { syncs } = await catalog.client.listRepositorySyncs(
      { name: "alpine-wrong-key" },
      catalog.admin,
    );
    expect(syncs).toHaveLength(1);
    expect(syncs[0]).toMatchObject({
      status: catalogV1.SyncStatus.FAILED,
      error: error.message,
      arches: [],
    });
    const repository = (
      await catalog.client.getRepository({ name: "alpine-wrong-key" }, catalog.admin)
    ).repository;
    expect(repository?.packageCount).toBe(0n);
    expect(repository?.lastSyncedAt).toBeUndefined();
    expect(await eventsOf(catalog, "alpine-wrong-key")).toHaveLength(0);
  });

  it("publishes only what a changed index adds, and nothing for a retried or re-signed one", async () => {
    const dir = join(root, "synthetic");
    await writeSyntheticRepository(
      dir,
      "x86_64",
      [packages.a, packages.b1, packages.c],
      key.signer,
      { description: "v1" },
    );
    await catalog.client.createRepository(
      {
        name: "synthetic",
        kind: UPSTREAM,
        url: `${server.url}/synthetic`,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    const v1 = await catalog.client.syncRepository({ name: "synthetic" }, catalog.admin);
    expect(v1.sync?.arches[0]).toMatchObject({
      added: 3,
      removed: 0,
      unchanged: 0,
      signedBy: "tailor-test-1.rsa.pub",
    });
    expect(
      (await eventsOf(catalog, "synthetic"))
        .map((stored) => `${stored.event.name}-${stored.event.version}`)
        .sort(),
    ).toEqual(["a-1.0-r0", "b-1.0-r0", "c-1.0-r0"]);

    const v2Entries = await writeSyntheticRepository(
      dir,
      "x86_64",
      [packages.a, packages.b2, packages.d],
      key.signer,
      { description: "v2" },
    );
    const v2 = await catalog.client.syncRepository({ name: "synthetic" }, catalog.admin);
    expect(v2.sync?.arches[0]).toMatchObject({
      added: 2,
      removed: 2,
      unchanged: 1,
      indexUnchanged: false,
    });
    const afterV2 = await eventsOf(catalog, "synthetic");
    expect(afterV2).toHaveLength(5);
    const newest = afterV2.slice(3);
    expect(newest.map((stored) => `${stored.event.name}-${stored.event.version}`).sort()).toEqual([
      "b-1.1-r0",
      "d-1.0-r0",
    ]);
    const d = v2Entries.find((entry) => entry.name === "d");
    expect(newest.find((stored) => stored.event.name === "d")).toMatchObject({
      msgId: `pkg.published:synthetic:x86_64:d:1.0-r0:${d?.checksum}`,
      event: expect.objectContaining({
        provides: ["so:libd.so.1=1"],
        via: "sync",
        checksum: d?.checksum,
      }),
    });
    const versions = await catalog.client.searchPackages(
      { repository: "synthetic", allVersions: true },
      catalog.admin,
    );
    expect(versions.packages.map((pkg) => `${pkg.name}-${pkg.version}`)).toEqual([
      "a-1.0-r0",
      "b-1.1-r0",
      "d-1.0-r0",
    ]);

    // The same index again: skipped by digest.
    const retried = await catalog.client.syncRepository({ name: "synthetic" }, catalog.admin);
    expect(retried.sync?.arches[0]).toMatchObject({
      added: 0,
      removed: 0,
      unchanged: 3,
      indexUnchanged: true,
    });
    // The same packages in a re-signed index with another DESCRIPTION: compared, nothing new.
    await writeSyntheticRepository(
      dir,
      "x86_64",
      [packages.a, packages.b2, packages.d],
      key.signer,
      { description: "v2 re-signed" },
    );
    const resigned = await catalog.client.syncRepository({ name: "synthetic" }, catalog.admin);
    expect(resigned.sync?.arches[0]).toMatchObject({
      added: 0,
      removed: 0,
      unchanged: 3,
      indexUnchanged: false,
    });
    expect(await eventsOf(catalog, "synthetic")).toHaveLength(5);
  });

  it("keeps the packages it has when upstream starts serving an index signed by an unknown key", async () => {
    const dir = join(root, "hijacked");
    await writeSyntheticRepository(dir, "x86_64", [packages.a, packages.b1], key.signer);
    await catalog.client.createRepository(
      {
        name: "hijacked",
        kind: UPSTREAM,
        url: `${server.url}/hijacked`,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "hijacked" }, catalog.admin);
    const intruder = createTestSigningKey("intruder.rsa.pub");
    await writeSyntheticRepository(dir, "x86_64", [packages.c, packages.d], intruder.signer);

    const error = await rejection(
      catalog.client.syncRepository({ name: "hijacked" }, catalog.admin),
    );
    expect(error.code).toBe(Code.FAILED_PRECONDITION);
    expect(error.message).toContain(
      'signed by "intruder.rsa.pub", which the repository does not trust (trusted: "tailor-test-1.rsa.pub")',
    );
    const listed = await catalog.client.searchPackages({ repository: "hijacked" }, catalog.admin);
    expect(listed.packages.map((pkg) => pkg.name)).toEqual(["a", "b"]);
    expect((await eventsOf(catalog, "hijacked")).map((stored) => stored.event.name).sort()).toEqual(
      ["a", "b"],
    );
    const { syncs } = await catalog.client.listRepositorySyncs({ name: "hijacked" }, catalog.admin);
    expect(syncs.map((sync) => sync.status)).toEqual([
      catalogV1.SyncStatus.FAILED,
      catalogV1.SyncStatus.SUCCEEDED,
    ]);
  });

  it("refuses an index whose signature by a trusted key does not match", async () => {
    const dir = join(root, "tampered-index");
    await writeSyntheticRepository(dir, "x86_64", [packages.a], key.signer);
    // Sign another index with the right key name but a different private key: the trusted key's signature is BAD.
    const impostor = createTestSigningKey("tailor-test-1.rsa.pub");
    await writeSyntheticRepository(dir, "x86_64", [packages.a, packages.c], impostor.signer);
    await catalog.client.createRepository(
      {
        name: "tampered-index",
        kind: UPSTREAM,
        url: `${server.url}/tampered-index`,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    const error = await rejection(
      catalog.client.syncRepository({ name: "tampered-index" }, catalog.admin),
    );
    expect(error.code).toBe(Code.FAILED_PRECONDITION);
    expect(error.reason).toBe("index_bad_signature");
    expect(error.message).toContain('key "tailor-test-1.rsa.pub"');
    expect(error.message).toContain("altered or corrupt");
  });

  it("syncs repositories given as file:// URLs and as plain directories", async () => {
    const dir = join(root, "local");
    await writeSyntheticRepository(
      dir,
      "x86_64",
      [packages.a, packages.b1, packages.c],
      key.signer,
    );
    for (const [name, url] of [
      ["local-file-url", pathToFileURL(dir).href],
      ["local-directory", dir],
    ] as const) {
      const created = await catalog.client.createRepository(
        { name, kind: UPSTREAM, url, arches: ["x86_64"], trustedKeys: [key.trustedKey] },
        catalog.admin,
      );
      expect(created.repository?.url).toBe(url);
      const synced = await catalog.client.syncRepository({ name }, catalog.admin);
      expect(synced.sync?.arches[0]).toMatchObject({ added: 3, signedBy: "tailor-test-1.rsa.pub" });
      const fetched = await catalog.client.fetchPackage(
        { repository: name, arch: "x86_64", name: "b", version: "1.0-r0" },
        catalog.admin,
      );
      expect(fetched.downloaded).toBe(true);
      expect(await catalog.blobs.has(fetched.blobDigest)).toBe(true);
    }
    const missing = await rejection(
      catalog.client
        .createRepository(
          {
            name: "local-missing",
            kind: UPSTREAM,
            url: join(root, "nowhere"),
            arches: ["x86_64"],
            trustedKeys: [key.trustedKey],
          },
          catalog.admin,
        )
        .then(() => catalog.client.syncRepository({ name: "local-missing" }, catalog.admin)),
    );
    expect(missing.code).toBe(Code.FAILED_PRECONDITION);
    expect(missing.reason).toBe("upstream_file_missing");
    expect(missing.message).toContain(join(root, "nowhere", "x86_64", "APKINDEX.tar.gz"));
  });

  it("mirrors every package's bytes at sync time when the repository asks for it", async () => {
    const dir = join(root, "mirrored");
    await writeSyntheticRepository(dir, "x86_64", [packages.a, packages.b1], key.signer);
    await catalog.client.createRepository(
      {
        name: "mirrored",
        kind: UPSTREAM,
        url: `${server.url}/mirrored`,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
        mirror: true,
      },
      catalog.admin,
    );
    const synced = await catalog.client.syncRepository({ name: "mirrored" }, catalog.admin);
    expect(synced.sync?.error).toBe("");
    expect(server.requests).toEqual(
      expect.arrayContaining(["/mirrored/x86_64/a-1.0-r0.apk", "/mirrored/x86_64/b-1.0-r0.apk"]),
    );
    const listed = await catalog.client.searchPackages({ repository: "mirrored" }, catalog.admin);
    for (const pkg of listed.packages) {
      expect(pkg.blobDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await catalog.blobs.has(pkg.blobDigest)).toBe(true);
    }
    const before = server.requests.length;
    const fetched = await catalog.client.fetchPackage(
      { repository: "mirrored", arch: "x86_64", name: "a", version: "1.0-r0" },
      catalog.admin,
    );
    expect(fetched.downloaded).toBe(false);
    expect(server.requests.length).toBe(before);
  });

  it("never runs two syncs of one repository at once", async () => {
    const [one, two] = await Promise.all([
      catalog.client.syncRepository({ name: "synthetic" }, catalog.admin),
      catalog.client.syncRepository({ name: "synthetic" }, catalog.admin),
    ]);
    const spans = [one.sync, two.sync]
      .map((sync) => ({ start: millis(sync?.startedAt), end: millis(sync?.finishedAt) }))
      .sort((x, y) => x.start - y.start);
    expect(spans[0]?.end).toBeLessThanOrEqual(spans[1]?.start ?? 0);
  });
});

describeWithFixtures("scheduled repository sync", () => {
  it("syncs upstream repositories on its own every interval and stops with the service", async () => {
    const root = await mkdtemp(join(tmpdir(), "tailor-catalog-schedule-"));
    const catalog = await startCatalog({
      environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "1" },
    });
    try {
      const key = createTestSigningKey("scheduled.rsa.pub");
      const a = await buildPackage({ name: "a", version: "1.0-r0" }, key.signer);
      await writeSyntheticRepository(root, "x86_64", [a], key.signer);
      await catalog.client.createRepository(
        {
          name: "scheduled",
          kind: UPSTREAM,
          url: root,
          arches: ["x86_64"],
          trustedKeys: [key.trustedKey],
        },
        catalog.admin,
      );
      await waitFor(
        async () => {
          const { syncs } = await catalog.client.listRepositorySyncs(
            { name: "scheduled" },
            catalog.admin,
          );
          return (
            syncs.filter(
              (sync) =>
                sync.trigger === "schedule" && sync.status === catalogV1.SyncStatus.SUCCEEDED,
            ).length >= 2
          );
        },
        { timeoutMs: 15_000, message: "no two scheduled syncs" },
      );
      const { syncs } = await catalog.client.listRepositorySyncs(
        { name: "scheduled" },
        catalog.admin,
      );
      expect(syncs.at(-1)?.arches[0]).toMatchObject({ added: 1, indexUnchanged: false });
      expect(syncs[0]?.arches[0]).toMatchObject({ added: 0, indexUnchanged: true });
      const started = Date.now();
      await catalog.stop();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await catalog.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  });
});

describeWithFixtures("repository sync on PGlite", () => {
  it("syncs, lists and fetches on the embedded database", async () => {
    const root = await mkdtemp(join(tmpdir(), "tailor-catalog-pglite-"));
    const catalog = await startCatalog({ database: "pglite" });
    try {
      const key = createTestSigningKey("pglite.rsa.pub");
      const built = [
        await buildPackage(
          { name: "zlib", version: "1.3-r0", provides: ["so:libz.so.1=1.3"] },
          key.signer,
        ),
        await buildPackage(
          { name: "curl", version: "8.5.0-r0", depends: ["so:libz.so.1"] },
          key.signer,
        ),
      ];
      await writeSyntheticRepository(root, "x86_64", built, key.signer);
      await catalog.client.createRepository(
        {
          name: "embedded",
          kind: UPSTREAM,
          url: pathToFileURL(root).href,
          arches: ["x86_64"],
          trustedKeys: [key.trustedKey],
        },
        catalog.admin,
      );
      const synced = await catalog.client.syncRepository({ name: "embedded" }, catalog.admin);
      expect(synced.sync?.arches[0]).toMatchObject({ added: 2 });
      const providers = await catalog.client.findProviders({ name: "so:libz.so.1" }, catalog.admin);
      expect(providers.packages.map((pkg) => pkg.name)).toEqual(["zlib"]);
      const fetched = await catalog.client.fetchPackage(
        { repository: "embedded", arch: "x86_64", name: "curl", version: "8.5.0-r0" },
        catalog.admin,
      );
      expect(fetched.downloaded).toBe(true);
      expect(await readPackageEvents(catalog.nats)).toHaveLength(2);
    } finally {
      await catalog.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("package events when NATS refuses them", () => {
  it("keeps them in the outbox and publishes them once NATS takes them again", async () => {
    const root = await mkdtemp(join(tmpdir(), "tailor-catalog-outbox-"));
    const catalog = await startCatalog();
    const connection = await connect({ servers: catalog.nats.url });
    try {
      const key = createTestSigningKey("outbox.rsa.pub");
      const built = [
        await buildPackage({ name: "a", version: "1-r0" }, key.signer),
        await buildPackage({ name: "b", version: "1-r0" }, key.signer),
      ];
      await writeSyntheticRepository(root, "x86_64", built, key.signer);
      await catalog.client.createRepository(
        {
          name: "outbox",
          kind: UPSTREAM,
          url: root,
          arches: ["x86_64"],
          trustedKeys: [key.trustedKey],
        },
        catalog.admin,
      );
      // Without the events stream every publish fails; the sync itself must not.
      const manager = await connection.jetstreamManager();
      await manager.streams.delete(streamName(catalog.nats.namespace, "EVENTS"));
      const synced = await catalog.client.syncRepository({ name: "outbox" }, catalog.admin);
      expect(synced.sync?.arches[0]).toMatchObject({ added: 2 });
      const waiting = await catalog.db.selectFrom("event_outbox").select("msg_id").execute();
      expect(waiting).toHaveLength(2);

      const bus = await connectBus({
        servers: catalog.nats.url,
        name: "test",
        logger: testLogger(),
        namespace: catalog.nats.namespace,
      });
      await bus.provision();
      await bus.close();
      // The next sync (nothing changed upstream) flushes the outbox.
      const again = await catalog.client.syncRepository({ name: "outbox" }, catalog.admin);
      expect(again.sync?.arches[0]).toMatchObject({ added: 0, indexUnchanged: true });
      expect(
        (await readPackageEvents(catalog.nats)).map((stored) => stored.event.name).sort(),
      ).toEqual(["a", "b"]);
      expect(await catalog.db.selectFrom("event_outbox").select("msg_id").execute()).toEqual([]);
    } finally {
      await connection.close();
      await catalog.stop();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("sync of a hosted repository", () => {
  it("is refused: a hosted repository has no upstream", async () => {
    const catalog = await startCatalog();
    try {
      const key = createTestSigningKey("hosted.rsa.pub");
      await catalog.client.createRepository(
        {
          name: "uploads",
          kind: catalogV1.RepositoryKind.HOSTED,
          arches: ["x86_64"],
          trustedKeys: [key.trustedKey],
        },
        catalog.admin,
      );
      const error = await rejection(
        catalog.client.syncRepository({ name: "uploads" }, catalog.admin),
      );
      expect(error.code).toBe(Code.FAILED_PRECONDITION);
      expect(error.message).toContain('repository "uploads" is hosted');
    } finally {
      await catalog.stop();
    }
  });
});
