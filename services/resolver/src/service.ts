import { hostname } from "node:os";
import type { TokenKeySource } from "@tailor/auth";
import {
  authenticate,
  bearerToken,
  createTokenVerifier,
  entitlementServiceCredentials,
  entitlementTokenKeys,
} from "@tailor/auth";
import { consumers, instanceConsumer, sleepUnlessAborted } from "@tailor/bus";
import type { Environment } from "@tailor/config";
import { catalogV1, entitlementV1, resolverV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { loadResolverConfig } from "./config.js";
import { consumeCatalogEvents } from "./events/catalog-event-consumer.js";
import { createResolverHandlers } from "./handlers/resolver-handlers.js";
import type { ResolverDependencies } from "./resolver-dependencies.js";
import { createResolverMetrics } from "./resolver-metrics.js";
import { createPackageFileCache } from "./source-images/package-file-cache.js";
import { createSourceImageCache } from "./source-images/source-image-cache.js";
import { migrations } from "./store/migrations/index.js";
import { createPackageUniverse } from "./universe/package-universe.js";
import type { PackageSource } from "./universe/universe-loader.js";
import { createUniverseLoader } from "./universe/universe-loader.js";

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface ResolverServiceOptions {
  /** Where TAILOR_SERVICE_API_KEY and TAILOR_RESOLVER_* are read. @default process.env */
  readonly environment?: Environment;
  /**
   * Public keys that verify callers' tokens.
   * @default the entitlement service's GetTokenKeys
   */
  readonly tokenKeys?: TokenKeySource;
  /**
   * Rebuilds of one arch's universe happen at most this often.
   * @default 100
   */
  readonly minRebuildIntervalMs?: number;
  /**
   * Distinguishes this replica's event consumer from the others'.
   * @default `<hostname>-<pid>-<random>`
   */
  readonly instanceId?: string;
  /**
   * Where the universe is loaded from.
   * @default the catalog (ListRepositories, then ListIndexEntries per repository and arch)
   */
  readonly packages?: PackageSource;
}

/**
 * Builds the resolver service: the package universe of every arch in memory
 * (loaded from the catalog, kept current by catalog events), and closures
 * restricted to what an organization is entitled to.
 */
export function createResolverService(options: ResolverServiceOptions = {}): ServiceDefinition {
  return {
    name: "resolver",
    schema: "resolver",
    migrations,
    async start(context) {
      const config = loadResolverConfig(options.environment ?? process.env);
      const logger = context.logger;
      const catalog = context.clients.get("catalog", catalogV1.CatalogService);
      const entitlement = context.clients.get("entitlement", entitlementV1.EntitlementService);
      const tokenKeys: TokenKeySource = options.tokenKeys ?? entitlementTokenKeys(entitlement);
      const verifier = createTokenVerifier({ keys: tokenKeys });
      const apiKey = config.serviceApiKey;
      const credentials =
        apiKey === undefined
          ? undefined
          : entitlementServiceCredentials(entitlement, apiKey, entitlementV1.Audience.API);
      const serviceMetadata = async () => {
        if (credentials === undefined) {
          throw new Error(
            "TAILOR_SERVICE_API_KEY is not set: the resolver has no credential to read the catalog with",
          );
        }
        return credentials.metadata();
      };
      const metrics = createResolverMetrics(context.metrics);
      const universe = createPackageUniverse({
        ...(options.minRebuildIntervalMs === undefined
          ? {}
          : { minRebuildIntervalMs: options.minRebuildIntervalMs }),
        onRebuilt(snapshot, durationMs) {
          metrics.rebuildSeconds.observe({ arch: snapshot.arch }, durationMs / 1000);
          metrics.universePackages.set({ arch: snapshot.arch }, snapshot.packageCount);
        },
        onRebuildFailed(arch, error) {
          logger.error(
            { err: error, arch },
            "cannot compile the package universe after a catalog event; keeping the previous one",
          );
        },
      });
      const loader = createUniverseLoader({
        catalog,
        serviceMetadata,
        universe,
        logger,
        ...(options.packages === undefined ? {} : { source: options.packages }),
      });
      const sourceImages = createSourceImageCache({ catalog, serviceMetadata });
      const deps: ResolverDependencies = {
        universe,
        loader,
        catalog,
        entitlement,
        sourceImages,
        packageFiles: createPackageFileCache(catalog),
        metrics,
        logger,
        authenticate: (ctx) => authenticate(ctx, verifier, "api"),
        callerMetadata(ctx) {
          const token = bearerToken(ctx);
          return token === undefined ? {} : { authorization: `Bearer ${token}` };
        },
        serviceMetadata,
      };
      context.grpc.add(resolverV1.ResolverService, createResolverHandlers(deps));
      // Listening but useless until the universe is loaded: health says so.
      const loading = context.grpc.health.hold(resolverV1.ResolverService.typeName);
      const canLoad = credentials !== undefined || options.packages !== undefined;
      if (!canLoad) {
        logger.error(
          "TAILOR_SERVICE_API_KEY is not set: the resolver cannot load its package universe and stays NOT_SERVING",
        );
      }

      // This replica's consumer exists before the first load, so no event
      // published while loading is missed (applying one twice is harmless).
      const instance = sanitize(
        options.instanceId ??
          `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      );
      const consumer = instanceConsumer(consumers.resolverUniverse, instance);
      await context.bus.provisionConsumer(consumer);

      const stopping = new AbortController();
      // Full reloads one after another (never two at once), awaited by stop().
      const reloadPeriodically = async () => {
        if (config.reloadIntervalSeconds === 0) return;
        while (!stopping.signal.aborted) {
          await sleepUnlessAborted(config.reloadIntervalSeconds * 1000, stopping.signal);
          if (stopping.signal.aborted) return;
          try {
            await loader.loadAll(stopping.signal);
            sourceImages.clear();
          } catch (error) {
            if (!stopping.signal.aborted) {
              logger.warn({ err: error }, "periodic universe reload failed");
            }
          }
        }
      };
      const background = (async () => {
        if (!canLoad) return;
        await loader.loadAllWithRetry(stopping.signal);
        if (stopping.signal.aborted) return;
        loading.release();
        await Promise.all([
          consumeCatalogEvents(
            { bus: context.bus, consumer, loader, universe, sourceImages, metrics, logger },
            stopping.signal,
          ),
          reloadPeriodically(),
        ]);
      })().catch((error: unknown) => {
        if (!stopping.signal.aborted)
          logger.error({ err: error }, "resolver background work stopped");
      });

      return {
        async stop() {
          stopping.abort();
          universe.close();
          await background;
        },
      };
    },
  };
}

/** The resolver service with its defaults (environment from process.env). */
export const resolverService: ServiceDefinition = createResolverService();

function sanitize(instance: string): string {
  return instance.replace(/[^A-Za-z0-9_-]/g, "_");
}
