import { join } from "node:path";
import type { LayerCache } from "@tailor/assembly";
import { assembleImage, createMemoryLayerCache } from "@tailor/assembly";
import type { TokenKeySource } from "@tailor/auth";
import {
  authenticate,
  bearerToken,
  createTokenVerifier,
  entitlementServiceCredentials,
  entitlementTokenKeys,
} from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { openBlobStore } from "@tailor/blob";
import type { ConsumerSpec } from "@tailor/bus";
import { consumers } from "@tailor/bus";
import type { Environment } from "@tailor/config";
import { createOutboxRelay } from "@tailor/outbox";
import type { eventsV1 } from "@tailor/proto";
import { builderV1, catalogV1, entitlementV1, gatewayV1, resolverV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf, serviceInfo } from "@tailor/service";
import type { BuilderDependencies } from "./builder-dependencies.js";
import { loadBuilderConfig } from "./config.js";
import { createBuildHandlers } from "./handlers/build-handlers.js";
import { createRegistryHandlers } from "./handlers/registry-handlers.js";
import { startRebuildPlanner } from "./planner/rebuild-planner.js";
import type { BuilderDatabase } from "./store/builder-database.js";
import { migrations } from "./store/migrations/index.js";
import type { Assembler, BuildCheckpoint } from "./workers/build-execution.js";
import { startBuildWorkers } from "./workers/build-workers.js";
import { createPackageCache } from "./workers/package-cache.js";

/** How often events a failed publish left in the outbox are retried. */
const OUTBOX_RETRY_MS = 10_000;

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface BuilderServiceOptions {
  /** Where TAILOR_SERVICE_API_KEY and TAILOR_BUILDER_* are read. @default process.env */
  readonly environment?: Environment;
  /**
   * Public keys that verify callers' tokens.
   * @default the entitlement service's GetTokenKeys
   */
  readonly tokenKeys?: TokenKeySource;
  /**
   * Where package bytes are read and image blobs written (shared with the catalog).
   * @default TAILOR_BLOB_STORE (a directory under TAILOR_DATA_DIR when unset)
   */
  readonly blobs?: BlobStore;
  /** @default assembleImage of @tailor/assembly */
  readonly assemble?: Assembler;
  /** Package inspections and written layers kept between builds. @default one in-memory cache per process */
  readonly layerCache?: LayerCache;
  /** The work-queue consumer; tests shorten its ack wait. @default consumers.builderWorkers */
  readonly workerConsumer?: ConsumerSpec<eventsV1.BuildJob>;
  /** Names this process's workers in tailor.build.started. @default `<hostname>:<pid>` */
  readonly workerName?: string;
  /** Tests: stop a build at a checkpoint as if its worker had been killed. */
  readonly checkpoint?: (
    buildId: string,
    step: BuildCheckpoint,
    attempt: number,
  ) => Promise<"continue" | "abandon">;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Builds the builder service: BuilderService (build requests), RegistryService
 * (reads of stored images), the rebuild planner and, per TAILOR_BUILDER_ROLE,
 * the build workers sharing the JetStream work queue.
 */
export function createBuilderService(options: BuilderServiceOptions = {}): ServiceDefinition {
  return {
    name: "builder",
    schema: "builder",
    migrations,
    async start(context) {
      const config = loadBuilderConfig(options.environment ?? process.env);
      const logger = context.logger;
      const catalog = context.clients.get("catalog", catalogV1.CatalogService);
      const entitlement = context.clients.get("entitlement", entitlementV1.EntitlementService);
      const resolver = context.clients.get("resolver", resolverV1.ResolverService);
      const tokenKeys: TokenKeySource = options.tokenKeys ?? entitlementTokenKeys(entitlement);
      const verifier = createTokenVerifier({ keys: tokenKeys });
      const credentials =
        config.serviceApiKey === undefined
          ? undefined
          : entitlementServiceCredentials(
              entitlement,
              config.serviceApiKey,
              entitlementV1.Audience.API,
            );
      if (credentials === undefined) {
        logger.error(
          "TAILOR_SERVICE_API_KEY is not set: builds fail (no_service_credentials) and the planner cannot request rebuilds",
        );
      }
      const ownsBlobs = options.blobs === undefined;
      const blobs =
        options.blobs ??
        (await openBlobStore(context.config.blobStore, {
          dataDir: context.config.dataDir,
          natsUrl: context.config.natsUrl ?? "nats://127.0.0.1:4222",
          logger,
        }));
      const db = databaseOf<BuilderDatabase>(context);
      const deps: BuilderDependencies = {
        db,
        bus: context.bus,
        blobs,
        logger,
        config,
        events: createOutboxRelay({ db, bus: context.bus, logger }),
        catalog,
        entitlement,
        resolver,
        gateway: context.clients.get("gateway", gatewayV1.GatewayService),
        authenticate: (ctx) => authenticate(ctx, verifier, "api"),
        callerMetadata(ctx) {
          const token = bearerToken(ctx);
          return token === undefined ? {} : { authorization: `Bearer ${token}` };
        },
        async serviceMetadata() {
          if (credentials === undefined) {
            throw new Error("TAILOR_SERVICE_API_KEY is not set");
          }
          return credentials.metadata();
        },
        now: options.now ?? (() => new Date()),
      };

      context.grpc.add(builderV1.BuilderService, {
        getServiceInfo: () => ({ info: serviceInfo("builder") }),
        ...createBuildHandlers(deps),
      });
      context.grpc.add(builderV1.RegistryService, createRegistryHandlers(deps));

      const outbox = deps.events.start(OUTBOX_RETRY_MS);
      const stoppers: { stop(): Promise<void> }[] = [outbox];
      if (config.role !== "worker") {
        stoppers.push(startRebuildPlanner(deps, { debounceMs: config.plannerDebounceMs }));
      }
      if (config.role !== "api") {
        const cacheDir = config.cacheDir ?? join(context.config.dataDir, "builder-cache");
        stoppers.push(
          startBuildWorkers(deps, {
            consumer: options.workerConsumer ?? consumers.builderWorkers,
            concurrency: config.workers,
            packages: createPackageCache(cacheDir, blobs),
            layers: options.layerCache ?? createMemoryLayerCache(),
            assemble: options.assemble ?? assembleImage,
            timeoutMs: config.buildTimeoutSeconds * 1000,
            ...(options.workerName === undefined ? {} : { workerName: options.workerName }),
            ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
          }),
        );
      }
      logger.info({ role: config.role, workers: config.workers }, "builder started");
      return {
        info: { role: config.role },
        async stop() {
          // Workers and planner first, then the last outbox flush.
          for (const stopper of stoppers.reverse()) await stopper.stop();
          await deps.events.flush().catch((error: unknown) => {
            logger.warn({ err: error }, "events stay in the outbox until the next start");
          });
          if (ownsBlobs) await blobs.close();
        },
      };
    },
  };
}

/** The builder service with its defaults (environment from process.env). */
export const builderService: ServiceDefinition = createBuilderService();
