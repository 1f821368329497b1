// TAILOR_BUILDER_TIMEOUT_SECONDS on real services: a build still running
// after the timeout fails with reason "timeout", and the worker keeps serving.
// Also: a source image whose own closure cannot be resolved fails at once.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestPackage, createTestSigningKey } from "@tailor/apk/testing";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore } from "@tailor/blob";
import { createCatalogService } from "@tailor/catalog";
import { createEntitlementService } from "@tailor/entitlement";
import type { CallOptions, Client } from "@tailor/grpc";
import { createGrpcClient, createHealthClient } from "@tailor/grpc";
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
import { createBuilderService } from "../src/index.js";

const logger = testLogger();
const { BuildStatus } = builderV1;
const TIMEOUT_SECONDS = 2;
const YAML = `contents:
  repositories:
    - https://packages.example.test/slow-tools
  packages:
    - tool
dev:
  packages:
    - tool-shell
archs:
  - x86_64
`;

describe("build timeout", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let workDir: string;
  let blobs: BlobStore;
  const services: TestService[] = [];
  let builder: Client<typeof builderV1.BuilderService> & { close(): void };
  let editor: CallOptions;
  let orgId: string;
  /** Builds held at "resolved" for longer than the timeout. */
  let slowNext = false;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    workDir = await mkdtemp(join(tmpdir(), "tailor-builder-timeout-"));
    blobs = await createDirectoryBlobStore({ root: join(workDir, "blobs") });
    const config = await testPlatformConfig(nats);
    const adminKey = generateApiKey().credential;
    const serviceKey = generateApiKey().credential;
    const on = { database: pg.database, nats, config, logger };
    services.push(
      await startTestService(
        createEntitlementService({
          environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, TAILOR_SERVICE_API_KEY: serviceKey },
        }),
        on,
      ),
    );
    services.push(
      await startTestService(
        createCatalogService({ environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" }, blobs }),
        on,
      ),
    );
    const entitlement = createGrpcClient(entitlementV1.EntitlementService, {
      address: config.entitlementAddress,
    });
    const catalog = createGrpcClient(catalogV1.CatalogService, { address: config.catalogAddress });
    builder = createGrpcClient(builderV1.BuilderService, { address: config.builderAddress });
    const as = async (apiKey: string): Promise<CallOptions> => {
      const { token } = await entitlement.issueToken({
        apiKey,
        audience: entitlementV1.Audience.API,
      });
      return { metadata: authorizationMetadata(token) };
    };
    const admin = await as(adminKey);
    try {
      const key = createTestSigningKey("slow-tools.rsa.pub");
      await catalog.createRepository(
        {
          name: "slow-tools",
          kind: catalogV1.RepositoryKind.HOSTED,
          arches: ["x86_64"],
          trustedKeys: [key.trustedKey],
        },
        admin,
      );
      await catalog.publishPackage(
        {
          repository: "slow-tools",
          content: await buildTestPackage({ name: "tool", version: "1.0-r0" }, key.signer),
        },
        admin,
      );
      await catalog.publishPackage(
        {
          repository: "slow-tools",
          content: await buildTestPackage({ name: "tool-shell", version: "1.0-r0" }, key.signer),
        },
        admin,
      );
      await catalog.putSourceImage({ name: "slow", yaml: YAML, mainPackage: "tool" }, admin);
      // No dev packages: its dev variant needs apk-tools, which no repository has.
      await catalog.putSourceImage(
        {
          name: "nodev",
          yaml: YAML.replace("dev:\n  packages:\n    - tool-shell\n", ""),
          mainPackage: "tool",
        },
        admin,
      );
      orgId =
        (await entitlement.createOrganization({ name: "acme" }, admin)).organization?.id ?? "";
      for (const sourceImage of ["slow", "nodev"]) {
        await entitlement.addPurchase({ orgId, sourceImage }, admin);
      }
      await entitlement.setCustomAssembly(
        { orgId, enabled: true, customizableSourceImages: ["slow", "nodev"] },
        admin,
      );
      const { identity } = await entitlement.createIdentity(
        { orgId, name: "ci", role: entitlementV1.Role.EDITOR },
        admin,
      );
      const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
      editor = await as(secret);

      services.push(
        await startTestService(
          createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }),
          on,
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
              TAILOR_BUILDER_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
            },
            blobs,
            async checkpoint(_buildId, step) {
              if (step === "resolved" && slowNext) {
                slowNext = false;
                await new Promise((resolve) => setTimeout(resolve, TIMEOUT_SECONDS * 1000 + 1_500));
              }
              return "continue";
            },
          }),
          on,
        ),
      );
      for (const [name, sourceImage] of [
        ["app", "slow"],
        ["unresolvable", "nodev"],
      ] as const) {
        await catalog.createCustomImage(
          { orgId, name, sourceImage, overlay: { packages: [] } },
          editor,
        );
      }
    } finally {
      entitlement.close();
      catalog.close();
    }
  }, 120_000);

  afterAll(async () => {
    builder?.close();
    for (const service of services.reverse()) await service.stop();
    await blobs?.close();
    await pg?.cleanup();
    await nats?.cleanup();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  async function build(customImage = "app"): Promise<builderV1.Build> {
    const { build: queued } = await builder.requestBuild({ orgId, customImage }, editor);
    return waitFor(
      async () => {
        const { build: current } = await builder.getBuild({ buildId: queued?.id ?? "" }, editor);
        return current !== undefined &&
          current.status !== BuildStatus.QUEUED &&
          current.status !== BuildStatus.RUNNING
          ? current
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  }

  it("fails a build running past TAILOR_BUILDER_TIMEOUT_SECONDS with reason timeout, then builds the next", async () => {
    slowNext = true;
    const slow = await build();
    expect(slow.status).toBe(BuildStatus.FAILED);
    expect(slow.failureReason).toBe("timeout");
    expect(slow.failureMessage).toBe(`the build ran longer than ${TIMEOUT_SECONDS} seconds`);
    expect(slow.attempts).toBe(1);
    expect(slow.digests).toEqual({});

    const next = await build();
    expect(next.failureMessage).toBe("");
    expect(next.status).toBe(BuildStatus.SUCCEEDED);
  }, 30_000);

  it("fails at once with resolve_failed when the source image itself cannot be resolved", async () => {
    const failed = await build("unresolvable");
    expect(failed.status).toBe(BuildStatus.FAILED);
    expect(failed.failureReason).toBe("resolve_failed");
    expect(failed.failureMessage).toContain("apk-tools");
    expect(failed.attempts).toBe(1);
  });
});
