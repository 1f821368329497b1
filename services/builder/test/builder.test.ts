// The builder with the real entitlement, catalog and resolver services on
// real Postgres and NATS: builds requested and run by workers, events in
// order, registry reads, reproducible digests, failures that leave the worker
// serving, a worker "killed" mid-build, planned rebuilds, tenancy; images
// exported to an OCI layout and unpacked by umoci; hostile packages;
// cancellation; multi-arch; source-image rebuilds.
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInstalledDb } from "@tailor/apk";
import type { RawTarEntry as RawEntry, TestSigningKey } from "@tailor/apk/testing";
import { buildTestPackage, createTestSigningKey } from "@tailor/apk/testing";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore, readBlob } from "@tailor/blob";
import type { Bus } from "@tailor/bus";
import { connectBus, consumers, defineConsumer, events } from "@tailor/bus";
import { createCatalogService } from "@tailor/catalog";
import type { PlatformConfig } from "@tailor/config";
import { createEntitlementService } from "@tailor/entitlement";
import type { CallOptions, Client } from "@tailor/grpc";
import { Code, createGrpcClient, createHealthClient } from "@tailor/grpc";
import { builderV1, catalogV1, entitlementV1, resolverV1 } from "@tailor/proto";
import { createResolverService } from "@tailor/resolver";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  rejection,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildCheckpoint } from "../src/index.js";
import { createBuilderService } from "../src/index.js";
import { rawPackage, writeUpstreamRepository } from "./support/hostile-packages.js";
import { exportLayout } from "./support/oci-export.js";

const logger = testLogger();
const { Audience, Role } = entitlementV1;
const { BuildStatus } = builderV1;
const TOOLBOX_YAML = `contents:
  repositories:
    - https://packages.example.test/acme-tools
  packages:
    - tool
dev:
  packages:
    - dev-shell
archs:
  - x86_64
entrypoint:
  command: /usr/bin/tool
`;
const DUO_YAML = `contents:
  repositories:
    - https://packages.example.test/duo-tools
  packages:
    - duo
dev:
  packages:
    - duo-shell
archs:
  - x86_64
  - aarch64
`;
const DEBOUNCE_MS = 800;
const ACK_WAIT_MS = 2_000;

/** Whether a command-line tool is installed; prints why checks are skipped when it is not. */
function hasTool(tool: string): boolean {
  try {
    execFileSync("which", [tool], { stdio: "pipe" });
    return true;
  } catch {
    console.info(`skipping ${tool} checks: ${tool} is not installed`);
    return false;
  }
}
const HAS_UMOCI = hasTool("umoci");
const HAS_SKOPEO = hasTool("skopeo");

/** A build held at a checkpoint until the test lets it go. */
interface Stall {
  readonly step: BuildCheckpoint;
  /** Resolves with the id of the build that reached the step. */
  readonly reached: Promise<string>;
  release(): void;
}

interface SeenEvent {
  kind: string;
  buildId: string;
  message: Record<string, unknown>;
}

describe("builder on real services", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let workDir: string;
  let blobs: BlobStore;
  let config: PlatformConfig;
  let observer: Bus;
  const seen: SeenEvent[] = [];
  const watching = new AbortController();
  let watcher: Promise<void> | undefined;
  const services: TestService[] = [];
  let entitlement: Client<typeof entitlementV1.EntitlementService> & { close(): void };
  let catalog: Client<typeof catalogV1.CatalogService> & { close(): void };
  let builder: Client<typeof builderV1.BuilderService> & { close(): void };
  let registry: Client<typeof builderV1.RegistryService> & { close(): void };
  const adminKey = generateApiKey().credential;
  const serviceKey = generateApiKey().credential;
  let admin: CallOptions;
  let acmeEditor: CallOptions;
  let acmeViewer: CallOptions;
  let globexOwner: CallOptions;
  let acmeId: string;
  let key: TestSigningKey;
  /** Set by a test: the checkpoint where the next attempt 1 of a build stops as if killed. */
  let crashAt: BuildCheckpoint | undefined;
  /** Builds whose worker "dies" on every attempt. */
  const poisoned = new Set<string>();
  /** Set by a test: the next build reaching the step waits there. */
  let stall: (Stall & { arrive(buildId: string): Promise<void> }) | undefined;

  function stallAt(step: BuildCheckpoint): Stall {
    let arrived: (buildId: string) => void = () => undefined;
    let release: () => void = () => undefined;
    const reached = new Promise<string>((resolve) => {
      arrived = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    stall = {
      step,
      reached,
      release,
      arrive(buildId) {
        arrived(buildId);
        return released;
      },
    };
    return stall;
  }

  async function as(apiKey: string): Promise<CallOptions> {
    const { token } = await entitlement.issueToken({ apiKey, audience: Audience.API });
    return { metadata: authorizationMetadata(token) };
  }

  async function member(orgId: string, name: string, role: entitlementV1.Role) {
    const { identity } = await entitlement.createIdentity({ orgId, name, role }, admin);
    const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
    return as(secret);
  }

  async function publish(bytes: Uint8Array): Promise<void> {
    await catalog.publishPackage({ repository: "acme-tools", content: bytes }, admin);
  }

  async function finished(buildId: string): Promise<builderV1.Build> {
    return waitFor(
      async () => {
        const { build } = await builder.getBuild({ buildId }, acmeViewer);
        const done =
          build !== undefined &&
          [
            BuildStatus.SUCCEEDED,
            BuildStatus.FAILED,
            BuildStatus.CANCELLED,
            BuildStatus.UP_TO_DATE,
          ].includes(build.status);
        return done ? build : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
  }

  async function requestAndWait(customImage: string): Promise<builderV1.Build> {
    const { build } = await builder.requestBuild(
      { orgId: acmeId, customImage, trigger: "" },
      acmeEditor,
    );
    return finished(build?.id ?? "");
  }

  function eventsOf(buildId: string): SeenEvent[] {
    return seen.filter((event) => event.buildId === buildId);
  }

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    workDir = await mkdtemp(join(tmpdir(), "tailor-builder-"));
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
    catalog = createGrpcClient(catalogV1.CatalogService, { address: config.catalogAddress });
    builder = createGrpcClient(builderV1.BuilderService, { address: config.builderAddress });
    registry = createGrpcClient(builderV1.RegistryService, { address: config.builderAddress });
    admin = await as(adminKey);

    // Every build event of the namespace, in the order JetStream stored them.
    observer = await connectBus({
      servers: nats.url,
      name: "builder-test",
      logger,
      namespace: nats.namespace,
    });
    await observer.provision();
    const everyBuildEvent = defineConsumer({
      name: "builder-test-observer",
      stream: "EVENTS",
      filter: "build.>",
      events: [
        events.buildQueued,
        events.buildStarted,
        events.buildLog,
        events.buildSucceeded,
        events.buildFailed,
        events.buildCancelled,
      ],
      description: "test: records every build event",
    });
    watcher = (async () => {
      for await (const delivery of observer.consume(everyBuildEvent, {
        signal: watching.signal,
      })) {
        const message = delivery.message as unknown as Record<string, unknown>;
        seen.push({
          kind: delivery.event.key,
          buildId: String(message.buildId),
          message,
        });
        await delivery.ack();
      }
    })();

    // A hosted repository with a tiny "toolbox" source image and a few extras.
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
    await publish(await buildTestPackage({ name: "base-files", version: "1.0-r0" }, key.signer));
    await publish(
      await buildTestPackage(
        { name: "tool", version: "3.12.7-r1", depends: ["base-files"] },
        key.signer,
        ["usr/bin/tool"],
      ),
    );
    await publish(await buildTestPackage({ name: "dev-shell", version: "1.0-r0" }, key.signer));
    await publish(await buildTestPackage({ name: "jq", version: "1.6-r0" }, key.signer));
    await publish(
      await buildTestPackage({ name: "conflict-a", version: "1.0-r0" }, key.signer, [
        "usr/bin/clash",
      ]),
    );
    await publish(
      await buildTestPackage({ name: "conflict-b", version: "2.0-r0" }, key.signer, [
        "usr/bin/clash",
      ]),
    );
    await catalog.putSourceImage(
      { name: "toolbox", yaml: TOOLBOX_YAML, mainPackage: "tool" },
      admin,
    );

    acmeId = (await entitlement.createOrganization({ name: "acme" }, admin)).organization?.id ?? "";
    const globexId =
      (await entitlement.createOrganization({ name: "globex" }, admin)).organization?.id ?? "";
    await entitlement.addPurchase({ orgId: acmeId, sourceImage: "toolbox" }, admin);
    for (const packageName of ["jq", "conflict-a", "conflict-b"]) {
      await entitlement.grantPackage({ orgId: acmeId, packageName, reason: "test" }, admin);
    }
    await entitlement.setCustomAssembly(
      { orgId: acmeId, enabled: true, customizableSourceImages: ["toolbox"] },
      admin,
    );
    acmeEditor = await member(acmeId, "ci-bot", Role.EDITOR);
    acmeViewer = await member(acmeId, "auditor", Role.VIEWER);
    globexOwner = await member(globexId, "boss", Role.OWNER);

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
    health.close();

    services.push(
      await startTestService(
        createBuilderService({
          environment: {
            TAILOR_SERVICE_API_KEY: serviceKey,
            TAILOR_BUILDER_CACHE_DIR: join(workDir, "cache"),
            TAILOR_BUILDER_PLANNER_DEBOUNCE_MS: String(DEBOUNCE_MS),
          },
          blobs,
          workerConsumer: defineConsumer({
            ...consumers.builderWorkers,
            events: [events.buildJob],
            ackWaitMs: ACK_WAIT_MS,
          }),
          async checkpoint(buildId, step, attempt) {
            if (stall?.step === step) {
              const held = stall;
              stall = undefined;
              await held.arrive(buildId);
            }
            if (poisoned.has(buildId) && step === "assembled") return "abandon";
            if (attempt === 1 && crashAt === step) {
              crashAt = undefined;
              return "abandon";
            }
            return "continue";
          },
        }),
        { database: pg.database, nats, config, logger },
      ),
    );

    await catalog.createCustomImage(
      { orgId: acmeId, name: "api", sourceImage: "toolbox", overlay: { packages: ["jq"] } },
      acmeEditor,
    );
    await catalog.createCustomImage(
      { orgId: acmeId, name: "web", sourceImage: "toolbox", overlay: { packages: [] } },
      acmeEditor,
    );
  }, 180_000);

  afterAll(async () => {
    watching.abort();
    await watcher;
    await observer?.close();
    entitlement?.close();
    catalog?.close();
    builder?.close();
    registry?.close();
    for (const service of services.reverse()) await service.stop();
    await blobs?.close();
    await pg?.cleanup();
    await nats?.cleanup();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  let firstBuild: builderV1.Build;

  it("builds a requested image: queued, started, log lines, succeeded, in order", async () => {
    const started = performance.now();
    firstBuild = await requestAndWait("api");
    console.info(`first build (cold caches): ${Math.round(performance.now() - started)} ms`);
    expect(firstBuild.failureMessage).toBe("");
    expect(firstBuild.status).toBe(BuildStatus.SUCCEEDED);
    expect(firstBuild.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    await waitFor(
      () => eventsOf(firstBuild.id).some((event) => event.kind === "build.succeeded") || undefined,
      { timeoutMs: 5_000 },
    );
    const kinds = eventsOf(firstBuild.id).map((event) => event.kind);
    expect(kinds[0]).toBe("build.queued");
    expect(kinds[1]).toBe("build.started");
    expect(kinds.at(-1)).toBe("build.succeeded");
    const logLines = eventsOf(firstBuild.id).filter((event) => event.kind === "build.log");
    expect(logLines.length).toBeGreaterThan(3);
    expect(logLines.map((line) => Number(line.message.seq))).toEqual(
      logLines.map((_, index) => index + 1),
    );
    expect(logLines.map((line) => line.message.text).join("\n")).toContain("tool-3.12.7-r1");
    const succeeded = eventsOf(firstBuild.id).at(-1)?.message;
    expect(succeeded?.digests).toEqual(firstBuild.digests);
    expect(succeeded && "version" in succeeded ? succeeded.version : "").toBe("3.12.7-r1");
  });

  it("shows digests, tags and the locked config in GetBuild", () => {
    expect(Object.keys(firstBuild.digests).sort()).toEqual([
      "dev",
      "dev/x86_64",
      "image",
      "image/x86_64",
      "provenance",
    ]);
    expect(firstBuild.tags).toEqual(
      expect.arrayContaining([
        "latest",
        "latest-dev",
        "3.12",
        "3.12.7",
        "3.12.7-r1",
        "3.12-dev",
        "3.12.7-dev",
        "3.12.7-r1-dev",
      ]),
    );
    // acme has not turned unique tags on.
    expect(firstBuild.tags.filter((tag) => /-\d{14}$/.test(tag))).toEqual([]);
    const locked = firstBuild.lockedConfig;
    expect(locked?.sourceImage).toBe("toolbox");
    expect(locked?.sourceImageVersion).toBe("3.12.7-r1");
    const image = locked?.variants.find((v) => v.variant === "image" && v.arch === "x86_64");
    expect(image?.packages.map((pkg) => pkg.name).sort()).toEqual(["base-files", "jq", "tool"]);
    expect(image?.packages.find((pkg) => pkg.name === "tool")?.pinned).toBe(true);
    const dev = locked?.variants.find((v) => v.variant === "dev");
    expect(dev?.packages.map((pkg) => pkg.name)).toContain("dev-shell");
  });

  it("serves the stored index, manifests and blobs through RegistryService", async () => {
    const tags = await registry.listTags({ repository: "acme/api" }, acmeViewer);
    expect(tags.orgId).toBe(acmeId);
    const latest = tags.tags.find((tag) => tag.name === "latest");
    expect(latest?.digest).toBe(firstBuild.digests.image);

    const index = await registry.getManifest(
      { repository: "acme/api", reference: "latest" },
      acmeViewer,
    );
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.digest).toBe(firstBuild.digests.image);
    const indexJson = JSON.parse(new TextDecoder().decode(index.content)) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    expect(indexJson.manifests).toEqual([
      expect.objectContaining({
        digest: firstBuild.digests["image/x86_64"],
        platform: expect.objectContaining({ architecture: "amd64", os: "linux" }),
      }),
    ]);
    const manifest = await registry.getManifest(
      { repository: "acme/api", reference: firstBuild.digests["image/x86_64"] ?? "" },
      acmeViewer,
    );
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const manifestJson = JSON.parse(new TextDecoder().decode(manifest.content)) as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number }[];
    };
    for (const blob of [manifestJson.config, ...manifestJson.layers]) {
      expect(await blobs.has(blob.digest)).toBe(true);
      const checked = await registry.checkBlob(
        { repository: "acme/api", digest: blob.digest },
        acmeViewer,
      );
      expect(checked).toMatchObject({ present: true, size: BigInt(blob.size), orgId: acmeId });
    }
    // The tool's file is in one of the layers, and the image's apk database lists every package.
    const config = JSON.parse(
      new TextDecoder().decode(await readBlob(blobs, manifestJson.config.digest)),
    ) as { config: { Entrypoint?: string[] } };
    expect(config.config.Entrypoint).toEqual(["/usr/bin/tool"]);
    const absent = await registry.checkBlob(
      { repository: "acme/api", digest: `sha256:${"0".repeat(64)}` },
      acmeViewer,
    );
    expect(absent.present).toBe(false);
  });

  it.skipIf(!HAS_UMOCI)(
    "stores images that umoci unpacks: package files, every locked package in the apk database, the SBOM",
    async () => {
      const layout = join(workDir, "layout-api");
      await exportLayout(blobs, layout, {
        "image-x86_64": firstBuild.digests["image/x86_64"] ?? "",
        "dev-x86_64": firstBuild.digests["dev/x86_64"] ?? "",
        latest: firstBuild.digests.image ?? "",
      });
      for (const variant of ["image", "dev"] as const) {
        const bundle = join(workDir, `bundle-api-${variant}`);
        execFileSync(
          "umoci",
          ["unpack", "--rootless", "--image", `${layout}:${variant}-x86_64`, bundle],
          {
            stdio: "pipe",
          },
        );
        const rootfs = join(bundle, "rootfs");
        expect(await readFile(join(rootfs, "usr/bin/tool"), "utf8")).toBe(
          "tool 3.12.7-r1 usr/bin/tool\n",
        );
        expect(await readFile(join(rootfs, "usr/share/jq/README"), "utf8")).toBe(
          "jq 1.6-r0 usr/share/jq/README\n",
        );
        const locked = firstBuild.lockedConfig?.variants.find(
          (v) => v.variant === variant && v.arch === "x86_64",
        );
        const closure = (locked?.packages ?? []).map((pkg) => `${pkg.name}-${pkg.version}`).sort();
        expect(closure.length).toBeGreaterThan(2);
        const installed = parseInstalledDb(
          await readFile(join(rootfs, "lib/apk/db/installed"), "utf8"),
        );
        expect(installed.map((record) => `${record.name}-${record.version}`).sort()).toEqual(
          closure,
        );
        if (variant === "dev") expect(closure).toContain("dev-shell-1.0-r0");
        const sbomDir = join(rootfs, "var/lib/db/sbom");
        const [sbomFile, ...others] = await readdir(sbomDir);
        expect(others).toEqual([]);
        expect(sbomFile).toMatch(/\.spdx\.json$/);
        const sbom = JSON.parse(await readFile(join(sbomDir, sbomFile ?? ""), "utf8")) as {
          spdxVersion: string;
          packages: { name: string; versionInfo?: string }[];
        };
        expect(sbom.spdxVersion).toBe("SPDX-2.3");
        for (const pkg of locked?.packages ?? []) {
          expect(sbom.packages).toContainEqual(
            expect.objectContaining({ name: pkg.name, versionInfo: pkg.version }),
          );
        }
      }
      if (HAS_SKOPEO) {
        const index = JSON.parse(
          execFileSync("skopeo", ["inspect", "--raw", `oci:${layout}:latest`], {
            encoding: "utf8",
          }),
        ) as { manifests: { digest: string }[] };
        expect(index.manifests.map((m) => m.digest)).toEqual([firstBuild.digests["image/x86_64"]]);
        const manifest = JSON.parse(
          execFileSync("skopeo", ["inspect", "--raw", `oci:${layout}:image-x86_64`], {
            encoding: "utf8",
          }),
        ) as { layers: unknown[] };
        expect(manifest.layers.length).toBeGreaterThan(0);
      }
    },
  );

  it("gives the same digests to the same inputs and moves no tag the second time", async () => {
    const second = await requestAndWait("api");
    expect(second.status).toBe(BuildStatus.SUCCEEDED);
    // Same images; the provenance statement names its own build, so it differs.
    const { provenance: secondProvenance, ...secondImages } = second.digests;
    const { provenance: firstProvenance, ...firstImages } = firstBuild.digests;
    expect(secondImages).toEqual(firstImages);
    expect(secondProvenance).not.toBe(firstProvenance);
    const history = await registry.getTagHistory(
      { repository: "acme/api", tag: "latest" },
      acmeViewer,
    );
    expect(history.moves).toEqual([
      expect.objectContaining({
        fromDigest: "",
        toDigest: firstBuild.digests.image,
        buildId: firstBuild.id,
      }),
    ]);
  });

  it("fails a build with a file conflict, naming the path and both packages, and keeps serving", async () => {
    await catalog.createCustomImage(
      {
        orgId: acmeId,
        name: "broken",
        sourceImage: "toolbox",
        overlay: { packages: ["conflict-a", "conflict-b"] },
      },
      acmeEditor,
    );
    const failed = await requestAndWait("broken");
    expect(failed.status).toBe(BuildStatus.FAILED);
    expect(failed.failureReason).toBe("file_conflict");
    expect(failed.failureMessage).toContain("usr/bin/clash");
    expect(failed.failureMessage).toContain("conflict-a-1.0-r0");
    expect(failed.failureMessage).toContain("conflict-b-2.0-r0");
    await waitFor(
      () => eventsOf(failed.id).find((event) => event.kind === "build.failed") ?? undefined,
      { timeoutMs: 5_000 },
    ).then((event) => expect(event.message.reason).toBe("file_conflict"));

    const next = await requestAndWait("web");
    expect(next.status).toBe(BuildStatus.SUCCEEDED);
  });

  it("fails a build whose added package cannot be resolved", async () => {
    await catalog.createCustomImage(
      { orgId: acmeId, name: "missing", sourceImage: "toolbox", overlay: { packages: ["jq>9"] } },
      acmeEditor,
    );
    const failed = await requestAndWait("missing");
    expect(failed.status).toBe(BuildStatus.FAILED);
    expect(failed.failureReason).toBe("resolve_failed");
    expect(failed.failureMessage).toContain("jq");
  });

  it("fails a build with a hostile package with package_rejected naming the package and entry, and keeps serving", async () => {
    const cases: { name: string; entries: RawEntry[]; entry: string }[] = [
      {
        name: "evil-dotdot",
        entries: [
          { name: "usr/", type: "5" },
          { name: "usr/../../etc/shadow", type: "0", content: new TextEncoder().encode("x\n") },
        ],
        entry: "usr/../../etc/shadow",
      },
      {
        name: "evil-device",
        entries: [
          { name: "dev/", type: "5" },
          { name: "dev/mem", type: "3" },
        ],
        entry: "dev/mem",
      },
      {
        name: "evil-whiteout",
        entries: [
          { name: "usr/", type: "5" },
          { name: "usr/.wh.lib", type: "0", content: new TextEncoder().encode("") },
        ],
        entry: "usr/.wh.lib",
      },
    ];
    const hostile = cases.map((item) => rawPackage(item.name, item.entries, key.signer));
    // A hosted repository refuses them at the door...
    for (const [index, pkg] of hostile.entries()) {
      const refused = await rejection(
        catalog.publishPackage({ repository: "acme-tools", content: pkg.bytes }, admin),
      );
      expect(refused.code).toBe(Code.INVALID_ARGUMENT);
      expect(refused.message).toContain(cases[index]?.entry);
    }
    // ...but an upstream repository's signed index may list them: the bytes are only seen at build time.
    const upstream = join(workDir, "hostile-upstream");
    await writeUpstreamRepository(upstream, hostile, key.signer);
    await catalog.createRepository(
      {
        name: "hostile-upstream",
        kind: catalogV1.RepositoryKind.UPSTREAM,
        url: upstream,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    await catalog.syncRepository({ name: "hostile-upstream" }, admin);
    const resolver = createGrpcClient(resolverV1.ResolverService, {
      address: config.resolverAddress,
    });
    try {
      for (const { name, entry } of cases) {
        await entitlement.grantPackage({ orgId: acmeId, packageName: name, reason: "test" }, admin);
        await catalog.createCustomImage(
          {
            orgId: acmeId,
            name: `with-${name}`,
            sourceImage: "toolbox",
            overlay: { packages: [name] },
          },
          acmeEditor,
        );
        await waitFor(
          async () =>
            (
              await resolver.resolve(
                { orgId: acmeId, sourceImage: "toolbox", arch: "x86_64", packages: [name] },
                acmeEditor,
              )
            ).ok || undefined,
          { timeoutMs: 10_000, intervalMs: 50 },
        );
        const failed = await requestAndWait(`with-${name}`);
        expect(failed.status).toBe(BuildStatus.FAILED);
        expect(failed.failureReason).toBe("package_rejected");
        expect(failed.failureMessage).toContain(`${name}-1.0-r0`);
        expect(failed.failureMessage).toContain(`entry "${entry}"`);
        expect(failed.attempts).toBe(1);
        expect(eventsOf(failed.id).some((event) => event.kind === "build.succeeded")).toBe(false);
      }
    } finally {
      resolver.close();
    }
    // Nothing of them reached a repository, and the worker keeps serving.
    const none = await rejection(
      registry.listTags({ repository: "acme/with-evil-dotdot" }, acmeViewer),
    );
    expect(none.code).toBe(Code.NOT_FOUND);
    const next = await requestAndWait("web");
    expect(next.status).toBe(BuildStatus.SUCCEEDED);
  });

  it("cancels a running build: the worker stops, moves no tag and keeps serving", async () => {
    const webTagsBefore = await registry.getTagHistory(
      { repository: "acme/web", tag: "latest" },
      acmeViewer,
    );
    const held = stallAt("resolved");
    const { build } = await builder.requestBuild(
      { orgId: acmeId, customImage: "web", trigger: "" },
      acmeEditor,
    );
    const buildId = build?.id ?? "";
    expect(await held.reached).toBe(buildId);
    expect((await builder.getBuild({ buildId }, acmeViewer)).build?.status).toBe(
      BuildStatus.RUNNING,
    );
    const viewerCancel = await rejection(builder.cancelBuild({ buildId }, acmeViewer));
    expect(viewerCancel.code).toBe(Code.PERMISSION_DENIED);
    const cancelled = await builder.cancelBuild({ buildId }, acmeEditor);
    expect(cancelled.build?.status).toBe(BuildStatus.CANCELLED);
    // The worker notices within a heartbeat (a third of the ack wait), then is let go.
    await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS));
    held.release();
    await waitFor(
      () =>
        eventsOf(buildId).some(
          (event) => event.kind === "build.log" && event.message.text === "the build was cancelled",
        ) || undefined,
      { timeoutMs: 10_000 },
    );
    const kinds = eventsOf(buildId)
      .map((event) => event.kind)
      .filter((kind) => kind !== "build.log");
    expect(kinds).toEqual(["build.queued", "build.started", "build.cancelled"]);
    const after = (await builder.getBuild({ buildId }, acmeViewer)).build;
    expect(after?.status).toBe(BuildStatus.CANCELLED);
    expect(after?.digests).toEqual({});
    expect((await builder.cancelBuild({ buildId }, acmeEditor)).build?.status).toBe(
      BuildStatus.CANCELLED,
    );
    const webTagsAfter = await registry.getTagHistory(
      { repository: "acme/web", tag: "latest" },
      acmeViewer,
    );
    expect(webTagsAfter.moves).toEqual(webTagsBefore.moves);

    const ended = await requestAndWait("web");
    expect(ended.status).toBe(BuildStatus.SUCCEEDED);
    const finishedAgain = await rejection(builder.cancelBuild({ buildId: ended.id }, acmeEditor));
    expect(finishedAgain.code).toBe(Code.FAILED_PRECONDITION);
  });

  it("builds every arch of a multi-arch source image: one index per variant over both platforms", async () => {
    await catalog.createRepository(
      {
        name: "duo-tools",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64", "aarch64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    for (const arch of ["x86_64", "aarch64"]) {
      for (const [name, files] of [
        ["duo-base", ["etc/duo-base"]],
        ["duo", ["usr/bin/duo"]],
        ["duo-shell", ["bin/duo-sh"]],
      ] as const) {
        await catalog.publishPackage(
          {
            repository: "duo-tools",
            content: await buildTestPackage(
              {
                name,
                version: "2.0-r0",
                arch,
                ...(name === "duo" ? { depends: ["duo-base"] } : {}),
              },
              key.signer,
              [...files],
            ),
          },
          admin,
        );
      }
    }
    await catalog.putSourceImage({ name: "duo", yaml: DUO_YAML, mainPackage: "duo" }, admin);
    await entitlement.addPurchase({ orgId: acmeId, sourceImage: "duo" }, admin);
    await entitlement.setCustomAssembly(
      { orgId: acmeId, enabled: true, customizableSourceImages: ["toolbox", "duo"] },
      admin,
    );
    await catalog.createCustomImage(
      { orgId: acmeId, name: "multi", sourceImage: "duo", overlay: { packages: [] } },
      acmeEditor,
    );
    // The resolver learns of the new packages from their events: wait until
    // both arches and both variants resolve before building.
    const resolver = createGrpcClient(resolverV1.ResolverService, {
      address: config.resolverAddress,
    });
    try {
      for (const arch of ["x86_64", "aarch64"]) {
        for (const devVariant of [false, true]) {
          await waitFor(
            async () =>
              (
                await resolver.resolve(
                  { orgId: acmeId, sourceImage: "duo", arch, devVariant },
                  acmeEditor,
                )
              ).ok || undefined,
            { timeoutMs: 10_000, intervalMs: 50 },
          );
        }
      }
    } finally {
      resolver.close();
    }
    // The organization turns unique tags on for this build only.
    await entitlement.setOrganizationSettings({ orgId: acmeId, uniqueTags: true }, admin);
    const built = await requestAndWait("multi").finally(() =>
      entitlement.setOrganizationSettings({ orgId: acmeId, uniqueTags: false }, admin),
    );
    expect(built.failureMessage).toBe("");
    expect(built.tags.filter((tag) => /^2\.0-r0-\d{14}$/.test(tag))).toHaveLength(1);
    expect(built.status).toBe(BuildStatus.SUCCEEDED);
    expect(Object.keys(built.digests).sort()).toEqual([
      "dev",
      "dev/aarch64",
      "dev/x86_64",
      "image",
      "image/aarch64",
      "image/x86_64",
      "provenance",
    ]);
    expect(built.lockedConfig?.variants.map((v) => `${v.variant}/${v.arch}`).sort()).toEqual([
      "dev/aarch64",
      "dev/x86_64",
      "image/aarch64",
      "image/x86_64",
    ]);
    for (const variant of ["image", "dev"] as const) {
      const index = await registry.getManifest(
        { repository: "acme/multi", reference: variant === "image" ? "latest" : "latest-dev" },
        acmeViewer,
      );
      expect(index.digest).toBe(built.digests[variant]);
      const manifests = (
        JSON.parse(new TextDecoder().decode(index.content)) as {
          manifests: { digest: string; platform: { architecture: string; os: string } }[];
        }
      ).manifests;
      // Platforms in the source image's arch order (the catalog keeps them sorted).
      expect(manifests.map((m) => [m.digest, m.platform.os, m.platform.architecture])).toEqual([
        [built.digests[`${variant}/aarch64`], "linux", "arm64"],
        [built.digests[`${variant}/x86_64`], "linux", "amd64"],
      ]);
      for (const entry of manifests) {
        const manifest = await registry.getManifest(
          { repository: "acme/multi", reference: entry.digest },
          acmeViewer,
        );
        const configDigest = (
          JSON.parse(new TextDecoder().decode(manifest.content)) as { config: { digest: string } }
        ).config.digest;
        const imageConfig = JSON.parse(
          new TextDecoder().decode(await readBlob(blobs, configDigest)),
        ) as { architecture: string };
        expect(imageConfig.architecture).toBe(entry.platform.architecture);
      }
    }
    if (HAS_UMOCI) {
      const layout = join(workDir, "layout-multi");
      await exportLayout(blobs, layout, { arm: built.digests["image/aarch64"] ?? "" });
      const bundle = join(workDir, "bundle-multi-arm");
      execFileSync("umoci", ["unpack", "--rootless", "--image", `${layout}:arm`, bundle], {
        stdio: "pipe",
      });
      expect(await readFile(join(bundle, "rootfs/usr/bin/duo"), "utf8")).toBe(
        "duo 2.0-r0 usr/bin/duo\n",
      );
      expect((await readFile(join(bundle, "rootfs/etc/apk/arch"), "utf8")).trim()).toBe("aarch64");
    }
  });

  it("finishes a build once when its worker dies before acknowledging, without duplicate tag moves", async () => {
    await catalog.updateCustomImage(
      { orgId: acmeId, name: "api", overlay: { packages: ["jq"], environment: { MODE: "two" } } },
      acmeEditor,
    );
    crashAt = "assembled";
    const crashed = await requestAndWait("api");
    expect(crashed.status).toBe(BuildStatus.SUCCEEDED);
    expect(crashed.attempts).toBe(2);
    expect(crashed.digests.image).not.toBe(firstBuild.digests.image);

    crashAt = "committed";
    const afterCommit = await requestAndWait("api");
    // Same images as the crashed-then-retried build (the provenance names each build).
    const { provenance: _afterProvenance, ...afterImages } = afterCommit.digests;
    const { provenance: _crashedProvenance, ...crashedImages } = crashed.digests;
    expect(afterImages).toEqual(crashedImages);
    // The redelivery finds the build finished and only acknowledges it.
    await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS + 1_500));
    const again = (await builder.getBuild({ buildId: afterCommit.id }, acmeViewer)).build;
    expect(again?.attempts).toBe(1);

    const history = await registry.getTagHistory(
      { repository: "acme/api", tag: "latest" },
      acmeViewer,
    );
    expect(history.moves.map((move) => move.buildId)).toEqual([crashed.id, firstBuild.id]);
    for (const build of [crashed, afterCommit]) {
      expect(eventsOf(build.id).filter((event) => event.kind === "build.succeeded")).toHaveLength(
        1,
      );
    }
  });

  it("fails a build whose worker dies on every delivery with worker_lost", async () => {
    const { build } = await builder.requestBuild(
      { orgId: acmeId, customImage: "web", trigger: "" },
      acmeEditor,
    );
    poisoned.add(build?.id ?? "");
    const lost = await finished(build?.id ?? "");
    expect(lost.status).toBe(BuildStatus.FAILED);
    expect(lost.failureReason).toBe("worker_lost");
    expect(lost.attempts).toBe(consumers.builderWorkers.maxDeliver);
    // The worker keeps serving.
    const next = await requestAndWait("web");
    expect(next.status).toBe(BuildStatus.SUCCEEDED);
  }, 60_000);

  it("rebuilds exactly the images whose closure holds a newly published package, once each", async () => {
    const before = seen.length;
    await publish(await buildTestPackage({ name: "jq", version: "1.7-r0" }, key.signer));
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 4));
    const queued = () =>
      seen
        .slice(before)
        .filter((event) => event.kind === "build.queued")
        .map((event) => event.message as { customImage: string; trigger: string; buildId: string });
    await waitFor(() => (queued().length > 0 ? true : undefined), { timeoutMs: 10_000 });
    expect(queued().map((event) => [event.customImage, event.trigger])).toEqual([
      ["api", "package:jq=1.7-r0"],
    ]);
    const rebuilt = await finished(queued()[0]?.buildId ?? "");
    expect(rebuilt.status).toBe(BuildStatus.SUCCEEDED);
    const image = rebuilt.lockedConfig?.variants.find((v) => v.variant === "image");
    expect(image?.packages.find((pkg) => pkg.name === "jq")?.version).toBe("1.7-r0");
  });

  it("keeps other organizations out with NOT_FOUND and viewers from requesting builds", async () => {
    const notYours = await rejection(builder.getBuild({ buildId: firstBuild.id }, globexOwner));
    expect(notYours.code).toBe(Code.NOT_FOUND);
    const noTags = await rejection(registry.listTags({ repository: "acme/api" }, globexOwner));
    expect(noTags.code).toBe(Code.NOT_FOUND);
    const noManifest = await rejection(
      registry.getManifest({ repository: "acme/api", reference: "latest" }, globexOwner),
    );
    expect(noManifest.code).toBe(Code.NOT_FOUND);
    const noBuild = await rejection(
      builder.requestBuild({ orgId: acmeId, customImage: "api" }, globexOwner),
    );
    expect(noBuild.code).toBe(Code.NOT_FOUND);
    const viewer = await rejection(
      builder.requestBuild({ orgId: acmeId, customImage: "api" }, acmeViewer),
    );
    expect(viewer.code).toBe(Code.PERMISSION_DENIED);
    const unknownImage = await rejection(
      builder.requestBuild({ orgId: acmeId, customImage: "nope" }, acmeEditor),
    );
    expect(unknownImage.code).toBe(Code.NOT_FOUND);
  });

  it("rebuilds every custom image of a source image once when the source image changes", async () => {
    const before = seen.length;
    await catalog.putSourceImage(
      {
        name: "toolbox",
        yaml: TOOLBOX_YAML.replace("entrypoint:", 'environment:\n  TOOLBOX: "2"\nentrypoint:'),
        mainPackage: "tool",
      },
      admin,
    );
    const expected = [
      "api",
      "broken",
      "missing",
      "web",
      "with-evil-device",
      "with-evil-dotdot",
      "with-evil-whiteout",
    ];
    const queued = () =>
      seen
        .slice(before)
        .filter((event) => event.kind === "build.queued")
        .map((event) => event.message as { customImage: string; trigger: string; buildId: string });
    await waitFor(() => (queued().length >= expected.length ? true : undefined), {
      timeoutMs: 20_000,
    });
    // Coalescing window passed twice: nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 2));
    expect(
      queued()
        .map((event) => event.customImage)
        .sort(),
    ).toEqual(expected);
    expect(new Set(queued().map((event) => event.trigger))).toEqual(new Set(["source-image"]));
    const results = await Promise.all(queued().map((event) => finished(event.buildId)));
    const byImage = Object.fromEntries(
      results.map((build) => [build.customImage, build.status] as const),
    );
    expect(byImage.api).toBe(BuildStatus.SUCCEEDED);
    expect(byImage.web).toBe(BuildStatus.SUCCEEDED);
    expect(byImage.broken).toBe(BuildStatus.FAILED);
    const api = results.find((build) => build.customImage === "api");
    const config = await registry.getManifest(
      { repository: "acme/api", reference: api?.digests["image/x86_64"] ?? "" },
      acmeViewer,
    );
    const configDigest = (
      JSON.parse(new TextDecoder().decode(config.content)) as { config: { digest: string } }
    ).config.digest;
    const imageConfig = JSON.parse(
      new TextDecoder().decode(await readBlob(blobs, configDigest)),
    ) as { config: { Env?: string[] } };
    expect(imageConfig.config.Env).toContain("TOOLBOX=2");
  }, 60_000);
});
