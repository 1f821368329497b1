import { hostname } from "node:os";
import type { CatalogDependencies } from "./catalog-dependencies.js";
import { applyEndOfLifePolicy } from "./end-of-life/end-of-life-policy.js";
import { createImageEventRelay } from "./events/image-events.js";
import { createPackageEventPublisher } from "./events/package-events.js";
import { createPackageFetcher } from "./packages/package-fetcher.js";
import { createRepositorySyncer } from "./sync/repository-syncer.js";
import type { SyncScheduler } from "./sync/sync-scheduler.js";
import { startSyncScheduler } from "./sync/sync-scheduler.js";

/** How often events a failed publish left in the outbox are retried. */
const OUTBOX_RETRY_MS = 30_000;

/**
 * Work the catalog does on its own: applies the end-of-life policy file
 * (start fails when it is invalid), publishes package events an earlier run
 * and image events left in their outboxes, retries them every 30 seconds, and syncs every
 * upstream repository every TAILOR_CATALOG_SYNC_INTERVAL_SECONDS (0: never).
 */
export async function startBackgroundWork(
  deps: CatalogDependencies,
): Promise<{ stop(): Promise<void> }> {
  const logger = deps.logger.child({ component: "background" });
  await applyEndOfLifePolicy(deps.db, deps.config.endOfLifePolicy, deps.now(), logger);

  const events = createPackageEventPublisher(deps.db, deps.bus, logger);
  void events.flush();
  const outboxRetry = setInterval(() => void events.flush(), OUTBOX_RETRY_MS);
  outboxRetry.unref();
  const imageEvents = createImageEventRelay({ db: deps.db, bus: deps.bus, logger }).start(
    OUTBOX_RETRY_MS,
  );

  let scheduler: SyncScheduler | undefined;
  if (deps.config.syncIntervalSeconds > 0) {
    const fetcher = createPackageFetcher(deps);
    const syncer = createRepositorySyncer(
      { ...deps, logger },
      { events, fetcher, owner: `${hostname()}:${process.pid}:schedule` },
    );
    scheduler = startSyncScheduler({ ...deps, logger }, syncer, deps.config.syncIntervalSeconds);
    logger.info(
      { intervalSeconds: deps.config.syncIntervalSeconds },
      "scheduled repository syncs started",
    );
  }

  return {
    async stop() {
      clearInterval(outboxRetry);
      await imageEvents.stop();
      await scheduler?.stop();
      // A last attempt, so events of the final sync are not left for the next start.
      await events.flush();
    },
  };
}
