// The resolver with the real catalog and entitlement services on real
// Postgres and NATS: the real Alpine v3.16 index, entitlement refusals that
// name the package, packages published while running, file conflicts in
// Preview, tenancy, and health while the catalog is away.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore } from "@tailor/blob";
import { createCatalogService } from "@tailor/catalog";
import type { PlatformConfig } from "@tailor/config";
import { createEntitlementService } from "@tailor/entitlement";
import type { CallOptions, Client } from "@tailor/grpc";
import { Code, createGrpcClient, createHealthClient } from "@tailor/grpc";
import { catalogV1, entitlementV1, resolverV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  describeWithFixtures,
  freePort,
  rejection,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { KnownPackage } from "../src/index.js";
import { createResolverService } from "../src/index.js";
import { knownPackageFromCatalog } from "../src/universe/known-package.js";
import type { TestSigningKey } from "./support/apk-fixtures.js";
import { buildPackage, createTestSigningKey, layOutAlpine316 } from "./support/apk-fixtures.js";

const logger = testLogger();
const { Audience, Role } = entitlementV1;
const PYTHON_YAML = `contents:
  repositories:
    - https://dl-cdn.alpinelinux.org/alpine/v3.16/main
  packages:
    - alpine-baselayout
    - busybox
    - python3
cmd: /usr/bin/python3
`;

describeWithFixtures("resolver on the real Alpine v3.16 index", (fixturesDir) => {
  let nats: TestNats;
  let pg: TestDatabase;
  let workDir: string;
  let blobs: BlobStore;
  let config: PlatformConfig;
  const services: TestService[] = [];
  let entitlement: Client<typeof entitlementV1.EntitlementService> & { close(): void };
  let catalog: Client<typeof catalogV1.CatalogService> & { close(): void };
  let resolver: Client<typeof resolverV1.ResolverService> & { close(): void };
  const adminKey = generateApiKey().credential;
  const serviceKey = generateApiKey().credential;
  let admin: CallOptions;
  let acmeViewer: CallOptions;
  let globexOwner: CallOptions;
  let acmeId: string;
  let globexId: string;
  let key: TestSigningKey;
  let bootstrapMs = 0;

  async function as(apiKey: string): Promise<CallOptions> {
    const { token } = await entitlement.issueToken({ apiKey, audience: Audience.API });
    return { metadata: authorizationMetadata(token) };
  }

  async function member(
    orgId: string,
    name: string,
    role: entitlementV1.Role,
  ): Promise<CallOptions> {
    const { identity } = await entitlement.createIdentity({ orgId, name, role }, admin);
    const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
    return as(secret);
  }

  async function publish(bytes: Uint8Array): Promise<void> {
    await catalog.publishPackage({ repository: "acme-tools", content: bytes }, admin);
  }

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    workDir = await mkdtemp(join(tmpdir(), "tailor-resolver-"));
    blobs = await createDirectoryBlobStore({ root: join(workDir, "blobs") });
    config = await testPlatformConfig(nats);
    services.push(
      await startTestService(
        createEntitlementService({
          environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, TAILOR_SERVICE_API_KEY: serviceKey },
        }),
        { database: pg.database, nats, config, logger },
      ),
    );
    services.push(
      await startTestService(
        createCatalogService({ environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" }, blobs }),
        { database: pg.database, nats, config, logger },
      ),
    );
    entitlement = createGrpcClient(entitlementV1.EntitlementService, {
      address: config.entitlementAddress,
    });
    catalog = createGrpcClient(catalogV1.CatalogService, {
      address: config.catalogAddress,
      defaultDeadlineMs: 120_000,
    });
    resolver = createGrpcClient(resolverV1.ResolverService, { address: config.resolverAddress });
    admin = await as(adminKey);

    // The catalog: Alpine 3.16 main synced from a directory, a hosted repository, a source image.
    const alpineDir = join(workDir, "alpine");
    const alpineKey = await layOutAlpine316(alpineDir, fixturesDir);
    await catalog.createRepository(
      {
        name: "alpine",
        kind: catalogV1.RepositoryKind.UPSTREAM,
        url: alpineDir,
        arches: ["x86_64"],
        trustedKeys: [alpineKey],
      },
      admin,
    );
    await catalog.syncRepository({ name: "alpine" }, admin);
    key = createTestSigningKey("acme-tools.rsa.pub");
    await catalog.createRepository(
      {
        name: "acme-tools",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    await catalog.putSourceImage(
      { name: "python", yaml: PYTHON_YAML, mainPackage: "python3" },
      admin,
    );

    // Organizations: acme bought python and was granted a few packages; globex bought nothing.
    acmeId = (await entitlement.createOrganization({ name: "acme" }, admin)).organization?.id ?? "";
    globexId =
      (await entitlement.createOrganization({ name: "globex" }, admin)).organization?.id ?? "";
    await entitlement.addPurchase({ orgId: acmeId, sourceImage: "python" }, admin);
    for (const packageName of ["jq", "oniguruma", "acme-agent", "conflict-a", "conflict-b"]) {
      await entitlement.grantPackage({ orgId: acmeId, packageName, reason: "test" }, admin);
    }
    await entitlement.setCustomAssembly(
      { orgId: acmeId, enabled: true, customizableSourceImages: ["python"] },
      admin,
    );
    acmeViewer = await member(acmeId, "auditor", Role.VIEWER);
    globexOwner = await member(globexId, "boss", Role.OWNER);

    // The resolver starts last and loads the universe from the catalog.
    const started = performance.now();
    services.push(
      await startTestService(
        createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }),
        { database: pg.database, nats, config, logger },
      ),
    );
    const health = createHealthClient(config.resolverAddress);
    await waitFor(
      async () =>
        (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    bootstrapMs = Math.round(performance.now() - started);
    health.close();
  }, 180_000);

  afterAll(async () => {
    entitlement?.close();
    catalog?.close();
    resolver?.close();
    for (const service of services.reverse()) await service.stop();
    await blobs?.close();
    await pg?.cleanup();
    await nats?.cleanup();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it("loads the Alpine index into memory and reports it", async () => {
    const status = await resolver.getUniverseStatus({}, acmeViewer);
    expect(status.ready).toBe(true);
    expect(status.arches).toEqual([
      expect.objectContaining({ arch: "x86_64", packageCount: 4929 }),
    ]);
    console.info(`resolver bootstrap (start to SERVING, 4929 packages): ${bootstrapMs} ms`);
  });

  it("resolves a source image from the real index with its packages pinned, in install order", async () => {
    const started = performance.now();
    const resolved = await resolver.resolve(
      { orgId: acmeId, sourceImage: "python", arch: "x86_64" },
      acmeViewer,
    );
    console.info(`first Resolve round trip: ${Math.round(performance.now() - started)} ms`);
    expect(resolved.ok).toBe(true);
    const names = resolved.packages.map((pkg) => pkg.name);
    expect(names).toEqual(
      expect.arrayContaining(["musl", "busybox", "alpine-baselayout", "python3"]),
    );
    expect(names.indexOf("musl")).toBeLessThan(names.indexOf("python3"));
    expect(resolved.packages.every((pkg) => pkg.pinned && pkg.repository === "alpine")).toBe(true);
    expect(resolved.sourceImageVersion).toMatch(/^3\.10\./);
    expect(resolved.installedSize).toBe(
      resolved.packages.reduce((sum, pkg) => sum + pkg.installedSize, 0n),
    );
  });

  it("adds entitled packages and refuses others with a message naming them", async () => {
    const withJq = await resolver.resolve(
      { orgId: acmeId, sourceImage: "python", arch: "x86_64", packages: ["jq"] },
      acmeViewer,
    );
    expect(withJq.ok).toBe(true);
    expect(
      withJq.packages
        .filter((pkg) => !pkg.pinned)
        .map((pkg) => pkg.name)
        .sort(),
    ).toEqual(["jq", "oniguruma"]);

    const refused = await resolver.resolve(
      { orgId: acmeId, sourceImage: "python", arch: "x86_64", packages: ["curl"] },
      acmeViewer,
    );
    expect(refused.ok).toBe(false);
    // curl first (asked for), then what it would have pulled in.
    expect(refused.failure?.notEntitled[0]).toBe("curl");
    expect(refused.failure?.notEntitled).toContain("libcurl");
    expect(refused.failure?.text).toContain("ERROR: unable to select packages:");
    expect(refused.failure?.text).toContain(
      "curl is not entitled for organization acme (not in the closure of any purchased source image and not granted)",
    );
    expect(refused.failure?.problems).toContainEqual(
      expect.objectContaining({ kind: "not_entitled", package: expect.stringMatching(/^curl-/) }),
    );
  });

  it("lists the purchased image's closure plus grants as entitled packages", async () => {
    const listed = await resolver.entitledPackages({ orgId: acmeId, arch: "x86_64" }, acmeViewer);
    const byName = new Map(listed.packages.map((pkg) => [pkg.name, pkg]));
    expect(byName.get("python3")?.sources).toEqual(["source-image:python"]);
    expect(byName.get("python3")?.versions[0]).toMatch(/^3\.10\./);
    expect(byName.get("jq")).toMatchObject({ sources: ["grant"], description: expect.any(String) });
    expect(byName.has("curl")).toBe(false);
    // Granted but not in the catalog (yet): nothing to offer.
    expect(byName.has("acme-agent")).toBe(false);
    const prefixed = await resolver.entitledPackages(
      { orgId: acmeId, arch: "x86_64", prefix: "py" },
      acmeViewer,
    );
    expect(prefixed.packages.map((pkg) => pkg.name).every((name) => name.startsWith("py"))).toBe(
      true,
    );
    expect(prefixed.packages.map((pkg) => pkg.name)).toContain("python3");
  });

  it("keeps tenants apart", async () => {
    const other = await rejection(
      resolver.resolve({ orgId: acmeId, sourceImage: "python", arch: "x86_64" }, globexOwner),
    );
    expect(other.code).toBe(Code.NOT_FOUND);
    expect(other.message).not.toContain("python");
    const entitled = await rejection(
      resolver.entitledPackages({ orgId: acmeId, arch: "x86_64" }, globexOwner),
    );
    expect(entitled.code).toBe(Code.NOT_FOUND);
    const anonymous = await rejection(
      resolver.resolve({ orgId: acmeId, sourceImage: "python", arch: "x86_64" }),
    );
    expect(anonymous.code).toBe(Code.UNAUTHENTICATED);
    const missing = await rejection(
      resolver.resolve({ orgId: acmeId, sourceImage: "nope", arch: "x86_64" }, acmeViewer),
    );
    expect(missing).toMatchObject({ code: Code.NOT_FOUND, field: "source_image" });
    // Globex bought nothing: its own owner cannot get python's closure either.
    const notBought = await rejection(
      resolver.resolve({ orgId: globexId, sourceImage: "python", arch: "x86_64" }, globexOwner),
    );
    expect(notBought).toMatchObject({
      code: Code.PERMISSION_DENIED,
      reason: "source_image_not_entitled",
      field: "source_image",
    });
    expect(notBought.message).toContain("globex");
    const notBoughtPreview = await rejection(
      resolver.preview(
        { orgId: globexId, sourceImage: "python", arch: "x86_64", overlay: {} },
        globexOwner,
      ),
    );
    expect(notBoughtPreview.code).toBe(Code.PERMISSION_DENIED);
  });

  it("picks up a newly published package version within a second of its event", async () => {
    const request = {
      orgId: acmeId,
      sourceImage: "python",
      arch: "x86_64",
      packages: ["acme-agent"],
    };
    const versionOfAgent = async () => {
      const resolved = await resolver.resolve(request, acmeViewer);
      return resolved.packages.find((pkg) => pkg.name === "acme-agent")?.version;
    };
    await publish(
      await buildPackage(
        { name: "acme-agent", version: "1.0-r0", depends: ["busybox"] },
        key.signer,
      ),
    );
    await waitFor(async () => (await versionOfAgent()) === "1.0-r0" || undefined, {
      timeoutMs: 5_000,
      intervalMs: 10,
    });

    const bytes = await buildPackage(
      { name: "acme-agent", version: "1.1-r0", depends: ["busybox"] },
      key.signer,
    );
    const published = performance.now();
    await publish(bytes);
    await waitFor(async () => (await versionOfAgent()) === "1.1-r0" || undefined, {
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    const visibleMs = Math.round(performance.now() - published);
    console.info(`PublishPackage call to resolvable: ${visibleMs} ms`);
    expect(visibleMs).toBeLessThan(1_000);
  });

  it("previews a change: diff with size deltas and file conflicts between packages", async () => {
    await publish(
      await buildPackage({ name: "conflict-a", version: "1.0-r0" }, key.signer, [
        "usr/bin/tool",
        "usr/share/a",
      ]),
    );
    await publish(
      await buildPackage({ name: "conflict-b", version: "2.0-r0" }, key.signer, [
        "usr/bin/tool",
        "usr/share/b",
      ]),
    );
    const editor = await member(acmeId, "ci-bot", Role.EDITOR);
    await catalog.createCustomImage(
      { orgId: acmeId, name: "api", sourceImage: "python", overlay: { packages: ["jq"] } },
      editor,
    );
    const overlay = { packages: ["conflict-a", "conflict-b"] };
    const preview = await waitFor(
      async () => {
        const answer = await resolver.preview(
          { orgId: acmeId, customImage: "api", arch: "x86_64", overlay },
          acmeViewer,
        );
        return answer.ok ? answer : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    expect(
      preview.added.map((change) => [change.name, change.oldVersion, change.newVersion]),
    ).toEqual([
      ["conflict-a", "", "1.0-r0"],
      ["conflict-b", "", "2.0-r0"],
    ]);
    expect(preview.removed.map((change) => change.name)).toEqual(["jq", "oniguruma"]);
    expect(preview.changed).toEqual([]);
    const sum = (changes: { installedSizeDelta: bigint }[]) =>
      changes.reduce((total, change) => total + change.installedSizeDelta, 0n);
    expect(preview.installedSizeDelta).toBe(sum(preview.added) + sum(preview.removed));
    expect(preview.fileConflicts).toEqual([
      expect.objectContaining({
        path: "usr/bin/tool",
        packages: ["conflict-a-1.0-r0", "conflict-b-2.0-r0"],
      }),
    ]);

    const refused = await resolver.preview(
      { orgId: acmeId, sourceImage: "python", arch: "x86_64", overlay: { packages: ["curl"] } },
      acmeViewer,
    );
    expect(refused.ok).toBe(false);
    expect(refused.failure?.notEntitled[0]).toBe("curl");
  });

  it("stays NOT_SERVING while the catalog is unreachable and serves once it answers", async () => {
    // A second replica whose catalog address has nobody listening yet.
    const lonely: PlatformConfig = {
      ...config,
      catalogAddress: `127.0.0.1:${await freePort()}`,
      resolverAddress: `127.0.0.1:${await freePort()}`,
    };
    const replica = await startTestService(
      createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }),
      { database: pg.database, nats, config: lonely, logger },
    );
    services.push(replica);
    const health = createHealthClient(lonely.resolverAddress);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await health.check(resolverV1.ResolverService.typeName)).toBe("NOT_SERVING");
      // A catalog replica comes up at that address (same database): the resolver's retry finds it.
      services.push(
        await startTestService(
          createCatalogService({
            environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" },
            blobs,
          }),
          { database: pg.database, nats, config: lonely, logger },
        ),
      );
      await waitFor(
        async () =>
          (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
        { timeoutMs: 15_000, intervalMs: 50 },
      );
    } finally {
      health.close();
    }
  }, 30_000);

  it("refuses invalid or too many atoms with INVALID_ARGUMENT naming packages[i]", async () => {
    const base = { orgId: acmeId, sourceImage: "python", arch: "x86_64" };
    const invalid = await rejection(
      resolver.resolve({ ...base, packages: ["jq", "foo bar"] }, acmeViewer),
    );
    expect(invalid).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "packages[1]" });
    expect(invalid.message).toContain('packages[1] "foo bar" is not a valid apk atom');
    const badVersion = await rejection(
      resolver.resolve({ ...base, packages: ["jq=abc"] }, acmeViewer),
    );
    expect(badVersion).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "packages[0]" });
    const empty = await rejection(resolver.resolve({ ...base, packages: ["jq", " "] }, acmeViewer));
    expect(empty).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "packages[1]" });
    const huge = await rejection(
      resolver.resolve(
        { ...base, packages: Array.from({ length: 5_000 }, (_, i) => `pkg${i}`) },
        acmeViewer,
      ),
    );
    expect(huge).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "packages" });
    const long = await rejection(
      resolver.resolve({ ...base, packages: [`a${"x".repeat(5_000)}`] }, acmeViewer),
    );
    expect(long).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "packages[0]" });
    const preview = await rejection(
      resolver.preview({ ...base, overlay: { packages: ["jq>>>"] } }, acmeViewer),
    );
    expect(preview).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "overlay.packages[0]" });
    // Another organization still learns nothing, not even that its atoms are wrong.
    const other = await rejection(
      resolver.resolve({ ...base, packages: ["foo bar"] }, globexOwner),
    );
    expect(other.code).toBe(Code.NOT_FOUND);
  });

  it("keeps previews and custom images apart between tenants", async () => {
    const other = await rejection(
      resolver.preview(
        { orgId: acmeId, customImage: "api", arch: "x86_64", overlay: { packages: ["jq"] } },
        globexOwner,
      ),
    );
    expect(other.code).toBe(Code.NOT_FOUND);
    expect(other.message).not.toContain("api");
    // globex asking about acme's custom image name under its own organization: not found.
    const borrowed = await rejection(
      resolver.preview(
        { orgId: globexId, customImage: "api", arch: "x86_64", overlay: {} },
        globexOwner,
      ),
    );
    expect(borrowed.code).toBe(Code.NOT_FOUND);
    // globex bought nothing and was granted nothing: nothing is listed for it.
    const listed = await resolver.entitledPackages(
      { orgId: globexId, arch: "x86_64" },
      globexOwner,
    );
    expect(listed.packages).toEqual([]);
  });

  it("gives the same answer to the same request", async () => {
    const request = {
      orgId: acmeId,
      sourceImage: "python",
      arch: "x86_64",
      packages: ["jq", "curl"],
    };
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => resolver.resolve(request, acmeViewer)),
    );
    const bytes = answers.map((answer) =>
      Buffer.from(toBinary(resolverV1.ResolveResponseSchema, answer)).toString("hex"),
    );
    expect(new Set(bytes).size).toBe(1);
    const ok = await resolver.resolve({ ...request, packages: ["jq"] }, acmeViewer);
    const again = await resolver.resolve({ ...request, packages: ["jq"] }, acmeViewer);
    expect(again).toEqual(ok);
  });

  it("lists a noarch package under every arch of its repository", async () => {
    await catalog.createRepository(
      {
        name: "multi",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64", "aarch64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    await entitlement.grantPackage(
      { orgId: acmeId, packageName: "noarch-tool", reason: "test" },
      admin,
    );
    await catalog.publishPackage(
      {
        repository: "multi",
        content: await buildPackage(
          { name: "noarch-tool", version: "1.0-r0", arch: "noarch" },
          key.signer,
        ),
      },
      admin,
    );
    for (const arch of ["x86_64", "aarch64"]) {
      const listed = await waitFor(
        async () => {
          const answer = await resolver
            .entitledPackages({ orgId: acmeId, arch, prefix: "noarch-" }, acmeViewer)
            .catch(() => undefined);
          return answer?.packages.length === 1 ? answer : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 20 },
      );
      expect(listed.packages[0]).toMatchObject({ name: "noarch-tool", versions: ["1.0-r0"] });
    }
  });

  it("keeps packages published during the bootstrap load and during a periodic reload", async () => {
    // A replica whose loads read the real catalog, then wait while a package
    // is published (its event stored) before handing over what they read.
    for (const packageName of ["late-tool"]) {
      await entitlement.grantPackage({ orgId: acmeId, packageName, reason: "test" }, admin);
    }
    const readCatalog = async (): Promise<KnownPackage[]> => {
      const { repositories } = await catalog.listRepositories({}, admin);
      const packages: KnownPackage[] = [];
      for (const [index, repository] of repositories.entries()) {
        for (const arch of repository.arches) {
          for await (const batch of catalog.listIndexEntries(
            { repository: repository.name, arch },
            admin,
          )) {
            for (const message of batch.packages) {
              packages.push(
                knownPackageFromCatalog(message, {
                  name: repository.name,
                  tag: undefined,
                  priority: index,
                }),
              );
            }
          }
        }
      }
      return packages;
    };
    const addresses: PlatformConfig = {
      ...config,
      resolverAddress: `127.0.0.1:${await freePort()}`,
    };
    const lateVersions = async () => {
      const listed = await replicaClient.entitledPackages(
        { orgId: acmeId, arch: "x86_64", prefix: "late-tool" },
        acmeViewer,
      );
      return listed.packages[0]?.versions ?? [];
    };
    let loads = 0;
    let reloaded: () => void = () => undefined;
    const reloadDone = new Promise<void>((resolve) => {
      reloaded = resolve;
    });
    const replicaClient = createGrpcClient(resolverV1.ResolverService, {
      address: addresses.resolverAddress,
    });
    const replica = await startTestService(
      createResolverService({
        environment: { TAILOR_SERVICE_API_KEY: serviceKey, TAILOR_RESOLVER_RELOAD_SECONDS: "1" },
        instanceId: "late-events",
        async packages() {
          loads++;
          const read = await readCatalog();
          if (loads === 1) {
            await publish(await buildPackage({ name: "late-tool", version: "1.0-r0" }, key.signer));
            await new Promise((resolve) => setTimeout(resolve, 300));
          } else if (loads === 2) {
            await publish(await buildPackage({ name: "late-tool", version: "2.0-r0" }, key.signer));
            // The event is applied while this reload still holds its older picture.
            await waitFor(async () => (await lateVersions()).includes("2.0-r0") || undefined, {
              timeoutMs: 5_000,
              intervalMs: 20,
            });
            setTimeout(reloaded, 50);
          }
          return read;
        },
      }),
      { database: pg.database, nats, config: addresses, logger },
    );
    services.push(replica);
    try {
      await waitFor(async () => (await lateVersions()).includes("1.0-r0") || undefined, {
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      await reloadDone;
      expect(await lateVersions()).toEqual(["2.0-r0", "1.0-r0"]);
    } finally {
      replicaClient.close();
    }
  }, 30_000);

  it("starts and stops twice on one NATS namespace, serving each time", async () => {
    for (let round = 0; round < 2; round++) {
      const addresses: PlatformConfig = {
        ...config,
        resolverAddress: `127.0.0.1:${await freePort()}`,
      };
      const replica = await startTestService(
        createResolverService({
          environment: { TAILOR_SERVICE_API_KEY: serviceKey, TAILOR_RESOLVER_RELOAD_SECONDS: "1" },
          instanceId: "twice",
        }),
        { database: pg.database, nats, config: addresses, logger },
      );
      const health = createHealthClient(addresses.resolverAddress);
      try {
        await waitFor(
          async () =>
            (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
          { timeoutMs: 15_000, intervalMs: 20 },
        );
      } finally {
        health.close();
      }
      const started = performance.now();
      await replica.stop();
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  }, 60_000);
});
