import { hostname } from "node:os";
import type { CatalogDependencies } from "./catalog-dependencies.js";
import { applyEndOfLifePolicy } from "./end-of-life/end-of-life-policy.js";
import { createPackageFetcher } from "./packages/package-fetcher.js";
import { createRepositorySyncer } from "./sync/repository-syncer.js";
import type { SyncScheduler } from "./sync/sync-scheduler.js";
import { startSyncScheduler } from "./sync/sync-scheduler.js";

/** How often events a failed publish left in the outbox are retried. */
const OUTBOX_RETRY_MS = 30_000;

/**
 * Work the catalog does on its own: applies the end-of-life policy file
 * (start fails when it is invalid), publishes the events an earlier run left
 * in the outbox and retries them every 30 seconds, and syncs every
 * upstream repository every TAILOR_CATALOG_SYNC_INTERVAL_SECONDS (0: never).
 */
export async function startBackgroundWork(
  deps: CatalogDependencies,
): Promise<{ stop(): Promise<void> }> {
  const logger = deps.logger.child({ component: "background" });
  await applyEndOfLifePolicy(deps.db, deps.config.endOfLifePolicy, deps.now(), logger);

  const outbox = deps.events.start(OUTBOX_RETRY_MS);

  let scheduler: SyncScheduler | undefined;
  if (deps.config.syncIntervalSeconds > 0) {
    const fetcher = createPackageFetcher(deps);
    const syncer = createRepositorySyncer(
      { ...deps, logger },
      { fetcher, owner: `${hostname()}:${process.pid}:schedule` },
    );
    scheduler = startSyncScheduler({ ...deps, logger }, syncer, deps.config.syncIntervalSeconds);
    logger.info(
      { intervalSeconds: deps.config.syncIntervalSeconds },
      "scheduled repository syncs started",
    );
  }

  return {
    async stop() {
      await outbox.stop();
      await scheduler?.stop();
      // A last attempt, so events of the final sync are not left for the next start.
      await deps.events.flush().catch((error: unknown) => {
        logger.warn({ err: error }, "events stay in the outbox until the next start");
      });
    },
  };
}
