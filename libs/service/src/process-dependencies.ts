import path from "node:path";
import type { PlatformConfig } from "@tailor/config";
import type { Database } from "@tailor/db";
import { createDatabase } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { collectDefaultMetrics, Registry } from "prom-client";

/** The NATS URL used when NATS_URL is unset. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** What every service in one process shares: database, NATS URL, metrics. */
export interface ProcessDependencies {
  readonly config: PlatformConfig;
  readonly logger: Logger;
  /** One Database per process; services use their own schema in it. */
  readonly database: Database;
  readonly natsUrl: string;
  readonly metrics: Registry;
  /** Closes the database when this process opened it. */
  close(): Promise<void>;
}

/**
 * Opens the dependencies of one process. With DATABASE_URL unset, PGlite is
 * opened under TAILOR_DATA_DIR at `pglite` (all-in-one) or `pglite-<name>` (a
 * single service), because one PGlite directory serves one process only.
 */
export async function createProcessDependencies(
  config: PlatformConfig,
  logger: Logger,
  options: {
    processName: string;
    natsUrl?: string;
    /** An already open database (tests); the process then does not close it. */
    database?: Database;
  },
): Promise<ProcessDependencies> {
  const pgliteDir =
    options.processName === "all-in-one" ? "pglite" : `pglite-${options.processName}`;
  const database =
    options.database ??
    (await createDatabase({
      ...(config.databaseUrl === undefined ? {} : { url: config.databaseUrl }),
      dataDir: path.resolve(config.dataDir, pgliteDir),
      logger,
    }));
  const ownsDatabase = options.database === undefined;
  const metrics = new Registry();
  metrics.setDefaultLabels({ process: options.processName });
  collectDefaultMetrics({ register: metrics });
  return {
    config,
    logger,
    database,
    natsUrl: options.natsUrl ?? config.natsUrl ?? DEFAULT_NATS_URL,
    metrics,
    close: async () => {
      if (ownsDatabase) await database.close();
    },
  };
}
