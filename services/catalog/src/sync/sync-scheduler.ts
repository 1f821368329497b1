import { setTimeout as sleep } from "node:timers/promises";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import { upstreamRepositoriesDue } from "../store/repository-store.js";
import type { RepositorySyncer } from "./repository-syncer.js";

/** A running scheduler. */
export interface SyncScheduler {
  /** Stops after the sync in progress (its mirroring is cut short); resolves once it has. */
  stop(): Promise<void>;
}

/** How often the scheduler looks for due repositories at most (a short interval checks more often). */
const MAX_TICK_MS = 30_000;

/**
 * Syncs every upstream repository whose last sync attempt is older than
 * `intervalSeconds`, one after the other, checking at least every 30
 * seconds. Because "due" is decided from the attempt time stored in the
 * database and each sync takes the repository's lease, several replicas
 * share the work: each repository is synced about once per interval, never
 * twice at a time. A failed sync is recorded and logged; the loop goes on.
 */
export function startSyncScheduler(
  deps: CatalogDependencies,
  syncer: RepositorySyncer,
  intervalSeconds: number,
): SyncScheduler {
  const stopping = new AbortController();
  const intervalMs = intervalSeconds * 1000;
  const tickMs = Math.min(intervalMs, MAX_TICK_MS);

  async function tick(): Promise<void> {
    const due = await upstreamRepositoriesDue(deps.db, new Date(deps.now().getTime() - intervalMs));
    for (const name of due) {
      if (stopping.signal.aborted) return;
      try {
        await syncer.sync(name, { trigger: "schedule", wait: false, signal: stopping.signal });
      } catch (error) {
        // Already recorded as a failed sync (or the repository vanished); the next tick retries it when due.
        deps.logger.debug({ repository: name, err: error }, "scheduled sync did not succeed");
      }
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await tick();
      } catch (error) {
        if (!stopping.signal.aborted)
          deps.logger.warn({ err: error }, "scheduled sync round failed");
      }
      try {
        await sleep(tickMs, undefined, { signal: stopping.signal });
      } catch {
        return;
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
