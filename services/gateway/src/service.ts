import type { TokenKeySource } from "@tailor/auth";
import {
  authenticate,
  createTokenVerifier,
  entitlementServiceCredentials,
  entitlementTokenKeys,
} from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { openBlobStore } from "@tailor/blob";
import type { Environment } from "@tailor/config";
import {
  builderV1,
  catalogV1,
  entitlementV1,
  gatewayV1,
  historyV1,
  resolverV1,
} from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf } from "@tailor/service";
import { createApkRepositoryKeys } from "./apk/repository-keys.js";
import { createCredentialResolver } from "./auth/credentials.js";
import { createFailureLimiter } from "./auth/failure-limiter.js";
import { loadGatewayConfig } from "./config.js";
import type { GatewayDependencies } from "./gateway-dependencies.js";
import { ServiceCredentialsMissingError } from "./gateway-dependencies.js";
import { createGatewayHandlers } from "./grpc/gateway-handlers.js";
import { createHttpApp } from "./http/create-http-app.js";
import type { GatewayDatabase } from "./store/gateway-database.js";
import { migrations } from "./store/migrations/index.js";

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface GatewayServiceOptions {
  /** Where TAILOR_SERVICE_API_KEY and TAILOR_GATEWAY_* are read. @default process.env */
  readonly environment?: Environment;
  /** Public keys that verify callers' tokens. @default the entitlement service's GetTokenKeys */
  readonly tokenKeys?: TokenKeySource;
  /**
   * Where image blobs and package bytes are read (shared with catalog and builder).
   * @default TAILOR_BLOB_STORE (a directory under TAILOR_DATA_DIR when unset)
   */
  readonly blobs?: BlobStore;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Gateway: the only public HTTP process (console, REST API, OCI registry,
 * APK repositories, /healthz, /metrics); its gRPC server carries health and
 * identity only.
 */
export function createGatewayService(options: GatewayServiceOptions = {}): ServiceDefinition {
  return {
    name: "gateway",
    schema: "gateway",
    migrations,
    async start(context) {
      const config = loadGatewayConfig(options.environment ?? process.env);
      const { logger, clients } = context;
      const entitlement = clients.get("entitlement", entitlementV1.EntitlementService);
      const verifier = createTokenVerifier({
        keys: options.tokenKeys ?? entitlementTokenKeys(entitlement),
      });
      const service =
        config.serviceApiKey === undefined
          ? undefined
          : entitlementServiceCredentials(
              entitlement,
              config.serviceApiKey,
              entitlementV1.Audience.API,
            );
      if (config.publicUrl === undefined) {
        logger.info(
          "TAILOR_GATEWAY_PUBLIC_URL is not set: the registry's token realm and the APK key URLs follow each request's Host header; set it in production",
        );
      }
      if (service === undefined) {
        logger.warn("TAILOR_SERVICE_API_KEY is not set: /v2 and /apk answer 503");
      }
      const ownsBlobs = options.blobs === undefined;
      const blobs =
        options.blobs ??
        (await openBlobStore(context.config.blobStore, {
          dataDir: context.config.dataDir,
          natsUrl: context.config.natsUrl ?? "nats://127.0.0.1:4222",
          logger,
        }));
      const now = options.now ?? (() => new Date());
      const db = databaseOf<GatewayDatabase>(context);
      const apkKeys = createApkRepositoryKeys({
        db,
        rotationDays: config.apkKeyRotationDays,
        now,
        logger,
      });
      context.grpc.add(
        gatewayV1.GatewayService,
        createGatewayHandlers({
          authenticate: (ctx) => authenticate(ctx, verifier, "api"),
          entitlement,
          apkKeys,
        }),
      );
      const requestId = (request: { id: unknown }) => ({ "x-request-id": String(request.id) });
      const deps: GatewayDependencies = {
        config,
        logger,
        db,
        apkKeys,
        blobs,
        entitlement,
        catalog: clients.get("catalog", catalogV1.CatalogService),
        resolver: clients.get("resolver", resolverV1.ResolverService),
        builder: clients.get("builder", builderV1.BuilderService),
        registry: clients.get("builder", builderV1.RegistryService),
        history: clients.get("build-history", historyV1.BuildHistoryService),
        auth: {
          credentials: createCredentialResolver({ entitlement, verifier }),
          failures: createFailureLimiter({
            limit: config.authFailureLimit,
            windowMs: config.authFailureWindowSeconds * 1000,
          }),
        },
        callerMetadata: (request, token) => ({
          authorization: `Bearer ${token}`,
          ...requestId(request),
        }),
        async serviceMetadata(request) {
          if (service === undefined) throw new ServiceCredentialsMissingError();
          return { ...(await service.metadata()), ...requestId(request) };
        },
        publicUrl(request) {
          if (config.publicUrl !== undefined) return config.publicUrl.replace(/\/+$/, "");
          return `${request.protocol}://${request.host}`;
        },
        now,
      };
      const app = createHttpApp({ deps, clients, metrics: context.metrics });
      await app.listen({ host: context.config.httpHost, port: context.config.httpPort });
      const address = app.server.address();
      const port =
        typeof address === "object" && address !== null ? address.port : context.config.httpPort;
      const host = context.config.httpHost === "0.0.0.0" ? "127.0.0.1" : context.config.httpHost;
      const httpUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      logger.info({ httpUrl }, "gateway serving HTTP");
      return {
        info: { httpUrl },
        async stop() {
          await app.close();
          if (ownsBlobs) await blobs.close();
        },
      };
    },
  };
}

/** The gateway with its defaults (environment from process.env). */
export const gatewayService: ServiceDefinition = createGatewayService();
