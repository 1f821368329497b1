import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import type { HistoryDatabase } from "../store/history.table.js";
import { pruneHistory } from "../store/history-store.js";

/** Options of {@link startHistoryPruner}. */
export interface HistoryPrunerOptions {
  readonly db: Kysely<HistoryDatabase>;
  readonly logger: Logger;
  /** Records older than this many days are pruned. */
  readonly retentionDays: number;
  /** Time between prunes (the first runs at start). */
  readonly intervalMs: number;
  readonly now: () => Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Prunes build records, logs and superseded tag moves past the retention, at start and on an interval. */
export function startHistoryPruner(options: HistoryPrunerOptions): { stop(): Promise<void> } {
  const logger = options.logger.child({ component: "history-pruner" });
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  async function prune(): Promise<void> {
    const cutoff = new Date(options.now().getTime() - options.retentionDays * DAY_MS);
    try {
      const pruned = await pruneHistory(options.db, cutoff);
      if (pruned.builds + pruned.logLines + pruned.tagMoves > 0) {
        logger.info({ ...pruned, cutoff }, "pruned build history");
      }
    } catch (error) {
      logger.warn({ err: error }, "pruning build history failed; retrying at the next interval");
    }
  }

  running = prune();
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(prune);
  }, options.intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
