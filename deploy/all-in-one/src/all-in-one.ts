import path from "node:path";
import { openBlobStore } from "@tailor/blob";
import { buildHistoryService } from "@tailor/build-history";
import { createBuilderService } from "@tailor/builder";
import { createCatalogService } from "@tailor/catalog";
import type { Environment, PlatformConfig, ServiceName } from "@tailor/config";
import {
  grpcAddressVariable,
  loadPlatformConfig,
  SERVICE_NAMES,
  serviceAddress,
} from "@tailor/config";
import { createEntitlementService } from "@tailor/entitlement";
import { createGatewayService } from "@tailor/gateway";
import type { Logger } from "@tailor/log";
import { createLogger } from "@tailor/log";
import { createResolverService } from "@tailor/resolver";
import type { RunningService, ServiceDefinition } from "@tailor/service";
import { createProcessDependencies, runAll, startService } from "@tailor/service";
import type { AdminKey } from "./admin-key.js";
import { resolveAdminKey, resolveApiKeyFile, SERVICE_KEY_FILE } from "./admin-key.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { ResolvedNats } from "./nats-resolution.js";
import { resolveNats } from "./nats-resolution.js";
import { pickPort } from "./ports.js";

/** A running all-in-one Tailor. */
export interface AllInOne {
  /** The console and API URL, e.g. http://127.0.0.1:8080. */
  readonly httpUrl: string;
  readonly natsUrl: string;
  readonly natsSource: ResolvedNats["source"];
  /** Configuration after free ports were picked. */
  readonly config: PlatformConfig;
  readonly services: readonly RunningService[];
  /** The platform administrator's API key and where it is kept. */
  readonly adminKey: AdminKey;
  /** Stops every service (gateway first), the database, and a child nats-server. */
  stop(): Promise<void>;
}

/** Options of {@link startAllInOne}. */
export interface AllInOneOptions {
  /** @default process.env */
  environment?: Environment;
  /** @default a logger named "tailor" */
  logger?: Logger;
}

function splitAddress(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(":");
  return { host: address.slice(0, index), port: Number(address.slice(index + 1)) };
}

/**
 * Gives every service its configured port when free and a free one
 * otherwise, so a second Tailor or a busy port never stops the start.
 */
async function withFreePorts(config: PlatformConfig, logger: Logger): Promise<PlatformConfig> {
  const overrides: Record<string, string> = {};
  for (const name of SERVICE_NAMES) {
    const { host, port } = splitAddress(serviceAddress(config, name));
    const bindHost = host.startsWith("[") ? host.slice(1, -1) : host;
    const chosen = await pickPort(port, bindHost);
    if (chosen !== port) {
      logger.warn({ service: name, wanted: port, port: chosen }, "gRPC port taken; using another");
      overrides[grpcAddressVariable(name)] = `${host}:${chosen}`;
    }
  }
  const httpPort = await pickPort(config.httpPort, config.httpHost);
  if (httpPort !== config.httpPort) {
    logger.warn({ wanted: config.httpPort, port: httpPort }, "HTTP port taken; using another");
  }
  const next = { ...config, httpPort };
  const keyOf: Record<ServiceName, keyof PlatformConfig> = {
    catalog: "catalogAddress",
    entitlement: "entitlementAddress",
    resolver: "resolverAddress",
    builder: "builderAddress",
    "build-history": "buildHistoryAddress",
    gateway: "gatewayAddress",
  };
  for (const name of SERVICE_NAMES) {
    const override = overrides[grpcAddressVariable(name)];
    if (override !== undefined) Object.assign(next, { [keyOf[name]]: override });
  }
  return next;
}

/**
 * Starts all six services in this process on embedded defaults: PGlite under
 * TAILOR_DATA_DIR unless DATABASE_URL is set, NATS from NATS_URL, the local
 * server, or a nats-server child.
 */
export async function startAllInOne(options: AllInOneOptions = {}): Promise<AllInOne> {
  const environment = options.environment ?? process.env;
  const baseConfig = loadPlatformConfig(environment);
  const logger =
    options.logger ??
    createLogger({
      service: "tailor",
      field: "process",
      level: baseConfig.logLevel,
      ...(baseConfig.logFormat === "auto" ? {} : { pretty: baseConfig.logFormat === "pretty" }),
    });
  const dataDir = path.resolve(baseConfig.dataDir);
  const unlock = await lockDataDir(dataDir);
  const cleanups: (() => Promise<void>)[] = [unlock];
  const services: RunningService[] = [];
  // Gateway first, data layer last; every step runs even if one fails.
  const stopAll = () =>
    runAll([
      ...services
        .splice(0)
        .reverse()
        .map((service) => () => service.stop()),
      ...cleanups.splice(0).reverse(),
    ]);
  try {
    const config = await withFreePorts({ ...baseConfig, dataDir }, logger);
    const nats = await resolveNats({ configuredUrl: config.natsUrl, dataDir, logger });
    cleanups.push(() => nats.stop());
    logger.info({ nats: nats.url, source: nats.source }, "using NATS");
    const deps = await createProcessDependencies(config, logger, {
      processName: "all-in-one",
      natsUrl: nats.url,
    });
    cleanups.push(() => deps.close());
    logger.info({ database: deps.database.kind }, "database ready");
    const adminKey = await resolveAdminKey(environment.TAILOR_BOOTSTRAP_ADMIN_KEY, dataDir);
    if (adminKey.generated)
      logger.info({ file: adminKey.source }, "generated the administrator API key");
    // The identity services call each other as (the resolver reading the catalog).
    const serviceKey = await resolveApiKeyFile(
      environment.TAILOR_SERVICE_API_KEY,
      dataDir,
      SERVICE_KEY_FILE,
    );
    if (serviceKey.generated)
      logger.info({ file: serviceKey.source }, "generated the service API key");
    const withServiceKey = { ...environment, TAILOR_SERVICE_API_KEY: serviceKey.credential };
    // One blob store for the process, on the NATS this start resolved (nats://BUCKET) or a directory.
    const blobs = await openBlobStore(config.blobStore, { dataDir, natsUrl: nats.url, logger });
    cleanups.push(() => blobs.close());
    const definitions: Readonly<Record<ServiceName, ServiceDefinition>> = {
      entitlement: createEntitlementService({
        environment: { ...withServiceKey, TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey.credential },
      }),
      catalog: createCatalogService({ environment, blobs }),
      resolver: createResolverService({ environment: withServiceKey }),
      // Workers run in this process (TAILOR_BUILDER_ROLE defaults to "all").
      builder: createBuilderService({
        environment: {
          // -dev images list this gateway's private APK repository unless told otherwise.
          TAILOR_BUILDER_APK_REPOSITORY_URL: `${publicUrl(config, environment)}/apk`,
          ...withServiceKey,
        },
        blobs,
      }),
      "build-history": buildHistoryService,
      gateway: createGatewayService({ environment: withServiceKey, blobs }),
    };
    for (const name of SERVICE_NAMES) {
      services.push(await startService(definitions[name], deps, serviceAddress(config, name)));
    }
    const gateway = services.find((s) => s.name === "gateway");
    let stopped: Promise<void> | undefined;
    return {
      httpUrl: gateway?.info.httpUrl ?? `http://${config.httpHost}:${config.httpPort}`,
      natsUrl: nats.url,
      natsSource: nats.source,
      config,
      services: [...services],
      adminKey,
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (error) {
    await stopAll().catch((stopError: unknown) =>
      logger.error({ err: stopError }, "error while cleaning up a failed start"),
    );
    throw error;
  }
}

/** Where clients reach this all-in-one's gateway: TAILOR_GATEWAY_PUBLIC_URL, else its listen address. */
function publicUrl(config: PlatformConfig, environment: Environment): string {
  const configured = environment.TAILOR_GATEWAY_PUBLIC_URL?.trim();
  if (configured !== undefined && configured !== "") return configured.replace(/\/+$/, "");
  const host = config.httpHost === "0.0.0.0" ? "127.0.0.1" : config.httpHost;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.httpPort}`;
}
