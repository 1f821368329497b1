// The builder with the real entitlement, catalog and resolver services on
// real Postgres and NATS: builds requested and run by workers, events in
// order, registry reads, reproducible digests, failures that leave the worker
// serving, a worker "killed" mid-build, planned rebuilds, tenancy.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildCheckpoint } from "../src/index.js";
import { createBuilderService } from "../src/index.js";
import type { TestSigningKey } from "./support/apk-packages.js";
import { buildPackage, createTestSigningKey } from "./support/apk-packages.js";
import { rejection } from "./support/rejection.js";

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
const DEBOUNCE_MS = 800;
const ACK_WAIT_MS = 2_000;

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
    await publish(await buildPackage({ name: "base-files", version: "1.0-r0" }, key.signer));
    await publish(
      await buildPackage(
        { name: "tool", version: "3.12.7-r1", depends: ["base-files"] },
        key.signer,
        ["usr/bin/tool"],
      ),
    );
    await publish(await buildPackage({ name: "dev-shell", version: "1.0-r0" }, key.signer));
    await publish(await buildPackage({ name: "jq", version: "1.6-r0" }, key.signer));
    await publish(
      await buildPackage({ name: "conflict-a", version: "1.0-r0" }, key.signer, ["usr/bin/clash"]),
    );
    await publish(
      await buildPackage({ name: "conflict-b", version: "2.0-r0" }, key.signer, ["usr/bin/clash"]),
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
  });

  it("shows digests, tags and the locked config in GetBuild", () => {
    expect(Object.keys(firstBuild.digests).sort()).toEqual([
      "dev",
      "dev/x86_64",
      "image",
      "image/x86_64",
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

  it("gives the same digests to the same inputs and moves no tag the second time", async () => {
    const second = await requestAndWait("api");
    expect(second.status).toBe(BuildStatus.SUCCEEDED);
    expect(second.digests).toEqual(firstBuild.digests);
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
    expect(afterCommit.digests).toEqual(crashed.digests);
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
    await publish(await buildPackage({ name: "jq", version: "1.7-r0" }, key.signer));
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 4));
    const queued = () =>
      seen
        .slice(before)
        .filter((event) => event.kind === "build.queued")
        .map((event) => event.message as { customImage: string; trigger: string; buildId: string });
    await waitFor(() => (queued().length > 0 ? true : undefined), { timeoutMs: 10_000 });
    expect(queued().map((event) => [event.customImage, event.trigger])).toEqual([
      ["api", "package:jq"],
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
});
