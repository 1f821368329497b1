// The whole of Tailor for the gateway's end-to-end tests: all six services on
// real Postgres and NATS, sharing one blob store, with a hosted repository of
// signed test packages, a "toolbox" source image, two organizations (acme
// bought toolbox and was granted jq; globex bought nothing) and API keys of
// members of each. Tests then talk HTTP to the gateway like any client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestSigningKey } from "@tailor/apk/testing";
import { buildTestPackage, createTestSigningKey } from "@tailor/apk/testing";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore } from "@tailor/blob";
import { createBuildHistoryService } from "@tailor/build-history";
import { createBuilderService } from "@tailor/builder";
import { createCatalogService } from "@tailor/catalog";
import type { Environment, PlatformConfig } from "@tailor/config";
import { createEntitlementService } from "@tailor/entitlement";
import type { CallOptions, Client } from "@tailor/grpc";
import { createGrpcClient, createHealthClient } from "@tailor/grpc";
import { builderV1, catalogV1, entitlementV1, historyV1, resolverV1 } from "@tailor/proto";
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
import { createGatewayService } from "../../src/index.js";

const { Audience, Role, BuildStatus } = { ...entitlementV1, ...builderV1 };

/** The toolbox source image: `tool` (+ base-files), `dev-shell` in the -dev variant. */
export const TOOLBOX_YAML = `contents:
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

type Closable<T> = T & { close(): void };

/** A member of an organization: its identity and a fresh API key. */
export interface Member {
  readonly identityId: string;
  /** The API key `tlr_<id>_<secret>` (use it as a bearer token or basic password). */
  readonly apiKey: string;
  /** gRPC call options with an `api` token of this member. */
  readonly call: CallOptions;
}

/** A running Tailor and what the tests set up in it. */
export interface TestPlatform {
  /** The gateway's base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `127.0.0.1:41234`: what skopeo and docker call the registry. */
  readonly registryHost: string;
  readonly config: PlatformConfig;
  readonly blobs: BlobStore;
  readonly workDir: string;
  /** The administrator's API key and gRPC call options. */
  readonly adminKey: string;
  readonly admin: CallOptions;
  readonly acmeId: string;
  readonly globexId: string;
  readonly acme: { readonly owner: Member; readonly editor: Member; readonly viewer: Member };
  readonly globex: { readonly owner: Member };
  /** Signs packages of the hosted repository `acme-tools`. */
  readonly packageKey: TestSigningKey;
  readonly entitlement: Closable<Client<typeof entitlementV1.EntitlementService>>;
  readonly catalog: Closable<Client<typeof catalogV1.CatalogService>>;
  readonly resolver: Closable<Client<typeof resolverV1.ResolverService>>;
  readonly builder: Closable<Client<typeof builderV1.BuilderService>>;
  readonly history: Closable<Client<typeof historyV1.BuildHistoryService>>;
  /** Creates an identity with `role` in `orgId` and an API key for it. */
  member(orgId: string, name: string, role: entitlementV1.Role): Promise<Member>;
  /** Publishes a signed test package into `acme-tools`. */
  publish(name: string, version: string, options?: PublishOptions): Promise<void>;
  /**
   * Creates (or updates) acme's custom image `name` from toolbox with
   * `packages` added, requests a build and waits until it finishes.
   */
  buildImage(name: string, packages: readonly string[]): Promise<builderV1.Build>;
  /** Waits until build `buildId` is finished (succeeded, failed, cancelled or up to date). */
  finished(buildId: string): Promise<builderV1.Build>;
  stop(): Promise<void>;
}

/** Extra package metadata for {@link TestPlatform.publish}. */
export interface PublishOptions {
  readonly depends?: readonly string[];
  readonly files?: readonly string[];
}

/** Options of {@link startTestPlatform}. */
export interface TestPlatformOptions {
  /** Extra gateway variables (TAILOR_GATEWAY_*). */
  readonly gatewayEnvironment?: Environment;
  /** Extra builder variables (TAILOR_BUILDER_*). */
  readonly builderEnvironment?: Environment;
}

/**
 * Starts entitlement, catalog, resolver, build-history, builder and gateway
 * on a fresh database and NATS namespace and seeds them (see the file's
 * header). Takes a few seconds; call it once per test file in beforeAll.
 */
export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const logger = testLogger();
  const nats: TestNats = await createTestNats();
  const pg: TestDatabase = await createTestDatabase({ logger });
  const workDir = await mkdtemp(join(tmpdir(), "tailor-gateway-"));
  const blobs = await createDirectoryBlobStore({ root: join(workDir, "blobs") });
  const config = await testPlatformConfig(nats);
  const adminKey = generateApiKey().credential;
  const serviceKey = generateApiKey().credential;
  const services: TestService[] = [];
  const start = async (definition: Parameters<typeof startTestService>[0]) => {
    const service = await startTestService(definition, {
      database: pg.database,
      nats,
      config,
      logger,
    });
    services.push(service);
    return service;
  };
  const closers: { close(): void }[] = [];
  const client = <T extends { close(): void }>(made: T): T => {
    closers.push(made);
    return made;
  };

  try {
    await start(
      createEntitlementService({
        environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, TAILOR_SERVICE_API_KEY: serviceKey },
      }),
    );
    await start(
      createCatalogService({ environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" }, blobs }),
    );
    const entitlement = client(
      createGrpcClient(entitlementV1.EntitlementService, { address: config.entitlementAddress }),
    );
    const catalog = client(
      createGrpcClient(catalogV1.CatalogService, { address: config.catalogAddress }),
    );
    const resolver = client(
      createGrpcClient(resolverV1.ResolverService, { address: config.resolverAddress }),
    );
    const builder = client(
      createGrpcClient(builderV1.BuilderService, { address: config.builderAddress }),
    );
    const history = client(
      createGrpcClient(historyV1.BuildHistoryService, { address: config.buildHistoryAddress }),
    );
    const as = async (apiKey: string): Promise<CallOptions> => {
      const { token } = await entitlement.issueToken({ apiKey, audience: Audience.API });
      return { metadata: authorizationMetadata(token) };
    };
    const admin = await as(adminKey);
    const member = async (
      orgId: string,
      name: string,
      role: entitlementV1.Role,
    ): Promise<Member> => {
      const { identity } = await entitlement.createIdentity({ orgId, name, role }, admin);
      const identityId = identity?.id ?? "";
      const { secret } = await entitlement.createApiKey({ identityId }, admin);
      return { identityId, apiKey: secret, call: await as(secret) };
    };

    const packageKey = createTestSigningKey("acme-tools.rsa.pub");
    await catalog.createRepository(
      {
        name: "acme-tools",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64"],
        trustedKeys: [packageKey.trustedKey],
      },
      admin,
    );
    const publish = async (name: string, version: string, extra: PublishOptions = {}) => {
      const bytes = await buildTestPackage(
        { name, version, ...(extra.depends === undefined ? {} : { depends: [...extra.depends] }) },
        packageKey.signer,
        extra.files ?? [`usr/share/${name}/README`],
      );
      await catalog.publishPackage({ repository: "acme-tools", content: bytes }, admin);
    };
    await publish("base-files", "1.0-r0", { files: ["etc/os-release"] });
    await publish("tool", "3.12.7-r1", { depends: ["base-files"], files: ["usr/bin/tool"] });
    await publish("dev-shell", "1.0-r0", { files: ["usr/bin/dev-shell"] });
    await publish("jq", "1.6-r0", { files: ["usr/bin/jq"] });
    await publish("secret-tool", "9.9-r0", { files: ["usr/bin/secret-tool"] });
    await catalog.putSourceImage(
      { name: "toolbox", yaml: TOOLBOX_YAML, mainPackage: "tool" },
      admin,
    );

    const acmeId =
      (await entitlement.createOrganization({ name: "acme" }, admin)).organization?.id ?? "";
    const globexId =
      (await entitlement.createOrganization({ name: "globex" }, admin)).organization?.id ?? "";
    await entitlement.addPurchase({ orgId: acmeId, sourceImage: "toolbox" }, admin);
    await entitlement.grantPackage({ orgId: acmeId, packageName: "jq", reason: "test" }, admin);
    await entitlement.setCustomAssembly(
      { orgId: acmeId, enabled: true, customizableSourceImages: ["toolbox"] },
      admin,
    );
    const acme = {
      owner: await member(acmeId, "acme-owner", Role.OWNER),
      editor: await member(acmeId, "acme-ci", Role.EDITOR),
      viewer: await member(acmeId, "acme-auditor", Role.VIEWER),
    };
    const globex = { owner: await member(globexId, "globex-owner", Role.OWNER) };

    await start(createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }));
    const health = createHealthClient(config.resolverAddress);
    await waitFor(
      async () =>
        (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    health.close();
    await start(createBuildHistoryService({ environment: {} }));
    await start(
      createBuilderService({
        environment: {
          TAILOR_SERVICE_API_KEY: serviceKey,
          TAILOR_BUILDER_CACHE_DIR: join(workDir, "cache"),
          TAILOR_BUILDER_PLANNER_DEBOUNCE_MS: "300",
          ...options.builderEnvironment,
        },
        blobs,
      }),
    );
    const gateway = await start(
      createGatewayService({
        environment: { TAILOR_SERVICE_API_KEY: serviceKey, ...options.gatewayEnvironment },
        blobs,
      }),
    );
    const url = gateway.running.info.httpUrl ?? "";

    const finished = (buildId: string): Promise<builderV1.Build> =>
      waitFor(
        async () => {
          const { build } = await builder.getBuild({ buildId }, admin);
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
        { timeoutMs: 90_000, intervalMs: 50 },
      );

    return {
      url,
      registryHost: new URL(url).host,
      config,
      blobs,
      workDir,
      adminKey,
      admin,
      acmeId,
      globexId,
      acme,
      globex,
      packageKey,
      entitlement,
      catalog,
      resolver,
      builder,
      history,
      member,
      publish,
      finished,
      async buildImage(name, packages) {
        const existing = await catalog
          .getCustomImage({ orgId: acmeId, name }, acme.editor.call)
          .catch(() => undefined);
        if (existing?.customImage === undefined) {
          await catalog.createCustomImage(
            { orgId: acmeId, name, sourceImage: "toolbox", overlay: { packages: [...packages] } },
            acme.editor.call,
          );
        } else {
          await catalog.updateCustomImage(
            { orgId: acmeId, name, overlay: { packages: [...packages] } },
            acme.editor.call,
          );
        }
        const { build } = await builder.requestBuild(
          { orgId: acmeId, customImage: name, trigger: "" },
          acme.editor.call,
        );
        return finished(build?.id ?? "");
      },
      async stop() {
        for (const made of closers) made.close();
        for (const service of services.reverse()) await service.stop();
        await blobs.close();
        await pg.cleanup();
        await nats.cleanup();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const made of closers) made.close();
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    await blobs.close();
    await pg.cleanup();
    await nats.cleanup();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}
