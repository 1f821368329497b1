import { join } from "node:path";
import type { TokenKeySource } from "@tailor/auth";
import { authenticate, bearerToken, createTokenVerifier, entitlementTokenKeys } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { openBlobStore } from "@tailor/blob";
import type { Environment } from "@tailor/config";
import { createOutboxRelay } from "@tailor/outbox";
import { catalogV1, entitlementV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf, serviceInfo } from "@tailor/service";
import { startBackgroundWork } from "./background-work.js";
import type { CatalogDependencies } from "./catalog-dependencies.js";
import { loadCatalogConfig } from "./config.js";
import { createImageHandlers } from "./handlers/image-handlers.js";
import { createPackageHandlers } from "./handlers/package-handlers.js";
import type { CatalogDatabase } from "./store/catalog-database.js";
import { migrations } from "./store/migrations/index.js";

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface CatalogServiceOptions {
  /**
   * Public keys that verify callers' tokens.
   * @default the entitlement service's GetTokenKeys
   */
  readonly tokenKeys?: TokenKeySource;
  /**
   * Where package bytes go.
   * @default TAILOR_BLOB_STORE (a directory under TAILOR_DATA_DIR when unset)
   */
  readonly blobs?: BlobStore;
  /** @default process.env */
  readonly environment?: Environment;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Builds the catalog service: upstream APK repositories, packages, source images and custom images. */
export function createCatalogService(options: CatalogServiceOptions = {}): ServiceDefinition {
  return {
    name: "catalog",
    schema: "catalog",
    migrations,
    async start(context) {
      const config = loadCatalogConfig(options.environment ?? process.env);
      const entitlement = context.clients.get("entitlement", entitlementV1.EntitlementService);
      const tokenKeys: TokenKeySource = options.tokenKeys ?? entitlementTokenKeys(entitlement);
      const verifier = createTokenVerifier({ keys: tokenKeys });
      const ownsBlobs = options.blobs === undefined;
      const blobs =
        options.blobs ??
        (await openBlobStore(context.config.blobStore, {
          dataDir: join(context.config.dataDir),
          natsUrl: context.config.natsUrl ?? "nats://127.0.0.1:4222",
          logger: context.logger,
        }));
      const db = databaseOf<CatalogDatabase>(context);
      const deps: CatalogDependencies = {
        db,
        bus: context.bus,
        blobs,
        logger: context.logger,
        config,
        events: createOutboxRelay({ db, bus: context.bus, logger: context.logger }),
        entitlement,
        authenticate: (ctx) => authenticate(ctx, verifier, "api"),
        callerMetadata(ctx) {
          const token = bearerToken(ctx);
          return token === undefined ? {} : { authorization: `Bearer ${token}` };
        },
        now: options.now ?? (() => new Date()),
      };
      context.grpc.add(catalogV1.CatalogService, {
        getServiceInfo: () => ({ info: serviceInfo("catalog") }),
        ...createPackageHandlers(deps),
        ...createImageHandlers(deps),
      });
      const background = await startBackgroundWork(deps);
      return {
        async stop() {
          await background.stop();
          if (ownsBlobs) await blobs.close();
        },
      };
    },
  };
}

/** The catalog service with its defaults. */
export const catalogService: ServiceDefinition = createCatalogService();
