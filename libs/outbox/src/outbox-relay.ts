import { fromBinary } from "@bufbuild/protobuf";
import type { Bus, EventType } from "@tailor/bus";
import { events as catalogue } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import { sql } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { UnknownOutboxEventError } from "./errors.js";
import type { OutboxDb } from "./outbox-table.js";
import { DEFAULT_OUTBOX_TABLE } from "./outbox-table.js";

/** Publishes what an outbox holds. Create with {@link createOutboxRelay}. */
export interface OutboxRelay {
  /**
   * Publishes every pending event, oldest first, each with its row's msgID,
   * and deletes it once JetStream stored it. A failed publish is recorded on
   * its row (`attempts`, `last_error`), the rest wait for the next flush, and
   * the failure is thrown. Concurrent calls in one process share one run;
   * other processes take other rows (SKIP LOCKED).
   * @returns how many events were published.
   */
  flush(): Promise<number>;
  /**
   * {@link flush} right after the commit that wrote events, retried with
   * backoff. Never throws: the change is committed and its events wait in
   * the outbox for a later flush; the failure is logged.
   */
  flushAfterCommit(): Promise<void>;
  /** Flushes now and every `intervalMs` until stopped (events a failed publish or a crash left). */
  start(intervalMs: number): { stop(): Promise<void> };
}

/** Options of {@link createOutboxRelay}. */
export interface OutboxRelayOptions<DB> {
  /** The service's database (scoped to its schema). */
  readonly db: Kysely<DB>;
  readonly bus: Pick<Bus, "publish">;
  readonly logger: Logger;
  /** @default "event_outbox" */
  readonly table?: string;
  /**
   * Event types the relay publishes, found by their key.
   * @default every event of the bus catalogue
   */
  readonly events?: readonly EventType[];
  /**
   * Rows taken (and locked) per transaction.
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * Publishes sent before waiting for their acknowledgements (sent in order on one connection).
   * @default 64
   */
  readonly publishWindow?: number;
  /**
   * Delays between the attempts of {@link OutboxRelay.flushAfterCommit}.
   * @default [100, 500, 2000]
   */
  readonly retryDelaysMs?: readonly number[];
}

interface BatchResult {
  readonly published: number;
  readonly full: boolean;
  readonly failure: unknown;
}

/** Creates the relay of one outbox table. */
export function createOutboxRelay<DB>(options: OutboxRelayOptions<DB>): OutboxRelay {
  const db = options.db as unknown as OutboxDb;
  const { bus } = options;
  const table = options.table ?? DEFAULT_OUTBOX_TABLE;
  const batchSize = options.batchSize ?? 500;
  const publishWindow = options.publishWindow ?? 64;
  const retryDelaysMs = options.retryDelaysMs ?? [100, 500, 2000];
  const logger = options.logger.child({ component: "outbox-relay", table });
  const eventTypes = new Map<string, EventType>(
    (options.events ?? Object.values(catalogue)).map((event) => [event.key, event]),
  );

  async function publishRow(row: {
    event_type: string;
    msg_id: string;
    payload: Uint8Array;
  }): Promise<void> {
    const eventType = eventTypes.get(row.event_type);
    if (eventType === undefined) throw new UnknownOutboxEventError(row.msg_id, row.event_type);
    await bus.publish(eventType, fromBinary(eventType.schema, row.payload), {
      msgID: row.msg_id,
    });
  }

  function flushBatch(): Promise<BatchResult> {
    return db.transaction().execute(async (trx) => {
      // SKIP LOCKED: concurrent relays (other replicas) take other rows, never the same one.
      const rows = await trx
        .selectFrom(table)
        .select(["id", "event_type", "msg_id", "payload"])
        .orderBy("id")
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      let published = 0;
      let failure: unknown;
      for (let start = 0; start < rows.length && failure === undefined; start += publishWindow) {
        const window = rows.slice(start, start + publishWindow);
        const results = await Promise.allSettled(window.map(publishRow));
        const done = window.filter((_, index) => results[index]?.status === "fulfilled");
        if (done.length > 0) {
          await trx
            .deleteFrom(table)
            .where(
              "id",
              "in",
              done.map((row) => row.id),
            )
            .execute();
          published += done.length;
        }
        for (const [index, result] of results.entries()) {
          const row = window[index];
          if (result.status === "fulfilled" || row === undefined) continue;
          await trx
            .updateTable(table)
            .set({ attempts: sql<number>`attempts + 1`, last_error: describe(result.reason) })
            .where("id", "=", row.id)
            .execute();
          if (result.reason instanceof UnknownOutboxEventError) {
            // Never publishable: keep it for an operator, do not block the others.
            logger.error({ err: result.reason }, "outbox row names an unknown event type");
          } else {
            failure ??= result.reason;
          }
        }
      }
      return { published, full: rows.length === batchSize, failure };
    });
  }

  async function flushAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await flushBatch();
      total += batch.published;
      if (batch.failure !== undefined) throw batch.failure;
      if (!batch.full || batch.published === 0) return total;
    }
  }

  let running: Promise<number> | undefined;
  let again = false;

  async function runCoalesced(): Promise<number> {
    let total = 0;
    do {
      again = false;
      total += await flushAll();
    } while (again);
    return total;
  }

  function flush(): Promise<number> {
    if (running !== undefined) {
      // Rows committed after the running flush read the table are taken by one more pass.
      again = true;
      return running;
    }
    running = runCoalesced().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    flush,

    async flushAfterCommit() {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await flush();
          return;
        } catch (error) {
          const delay = retryDelaysMs[attempt];
          if (delay === undefined) {
            logger.warn(
              { err: error, attempts: attempt + 1 },
              "events stay in the outbox: publishing failed; the relay will retry",
            );
            return;
          }
          // Jitter keeps replicas that failed together from retrying together.
          await sleep(delay * (0.5 + Math.random()));
        }
      }
    },

    start(intervalMs) {
      let stopped = false;
      let inFlight = false;
      let current: Promise<void> = Promise.resolve();
      const tick = () => {
        // A slow flush is not overlapped by the next tick.
        if (inFlight) return;
        inFlight = true;
        current = flush()
          .then(
            (count) => {
              if (count > 0) logger.info({ count }, "published events left in the outbox");
            },
            (error: unknown) => logger.warn({ err: error }, "outbox flush failed; will retry"),
          )
          .finally(() => {
            inFlight = false;
          });
      };
      tick();
      const timer = setInterval(() => {
        if (!stopped) tick();
      }, intervalMs);
      timer.unref();
      return {
        async stop() {
          stopped = true;
          clearInterval(timer);
          await current;
        },
      };
    },
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
