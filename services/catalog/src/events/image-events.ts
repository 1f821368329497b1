/**
 * Image events and their outbox. A change and the event announcing it are
 * written in one transaction (the event into `image_event_outbox`); after
 * commit the relay publishes pending events to JetStream with their stable
 * msgIDs and deletes them. So a revision never exists without its event
 * (it waits in the outbox until NATS takes it), and an event never exists
 * without its revision (a rolled-back change leaves no outbox row).
 * Publishing twice is harmless: JetStream drops a repeated msgID.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@tailor/bus";
import { events } from "@tailor/bus";
import type { Kysely, Transaction } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { eventsV1 } from "@tailor/proto";
import type { CustomImage } from "../custom-images/custom-image.js";
import type { SourceImage } from "../source-images/source-image.js";
import type { CatalogDatabase } from "../store/catalog-database.js";

/** The events of the image half, by their key in the bus catalogue. */
type ImageEventKey = "sourceImageUpdated" | "customImageUpdated";

/** Stable id of a source image's generation: `source-image.updated:<name>:<generation>`. */
export function sourceImageUpdatedMsgId(name: string, generation: number): string {
  return `source-image.updated:${name}:${generation}`;
}

/** Stable id of a custom image revision: `custom-image.updated:<org>:<name>:<revision>`. */
export function customImageUpdatedMsgId(orgId: string, name: string, revision: number): string {
  return `custom-image.updated:${orgId}:${name}:${revision}`;
}

async function enqueue(
  trx: Transaction<CatalogDatabase>,
  event: ImageEventKey,
  msgId: string,
  payload: Uint8Array,
): Promise<void> {
  await trx
    .insertInto("image_event_outbox")
    .values({ event, msg_id: msgId, payload })
    .onConflict((conflict) => conflict.column("msg_id").doNothing())
    .execute();
}

/** Queues `tailor.catalog.source-image.updated` for a new generation, inside its transaction. */
export async function enqueueSourceImageUpdated(
  trx: Transaction<CatalogDatabase>,
  image: SourceImage,
  version: string,
): Promise<void> {
  const message = create(eventsV1.SourceImageUpdatedSchema, {
    sourceImage: image.name,
    version,
    generation: image.generation,
    occurredAt: timestampFromDate(image.updatedAt),
  });
  await enqueue(
    trx,
    "sourceImageUpdated",
    sourceImageUpdatedMsgId(image.name, image.generation),
    toBinary(eventsV1.SourceImageUpdatedSchema, message),
  );
}

/** Queues `tailor.catalog.custom-image.updated` for a new revision, inside its transaction. */
export async function enqueueCustomImageUpdated(
  trx: Transaction<CatalogDatabase>,
  image: CustomImage,
): Promise<void> {
  const message = create(eventsV1.CustomImageUpdatedSchema, {
    orgId: image.orgId,
    customImage: image.name,
    revision: image.revision,
    sourceImage: image.sourceImage,
    author: image.author.name,
    authorSubject: image.author.subject,
    occurredAt: timestampFromDate(image.createdAt),
  });
  await enqueue(
    trx,
    "customImageUpdated",
    customImageUpdatedMsgId(image.orgId, image.name, image.revision),
    toBinary(eventsV1.CustomImageUpdatedSchema, message),
  );
}

async function publishRow(
  bus: Bus,
  event: string,
  msgId: string,
  payload: Uint8Array,
): Promise<void> {
  switch (event) {
    case "sourceImageUpdated":
      await bus.publish(
        events.sourceImageUpdated,
        fromBinary(eventsV1.SourceImageUpdatedSchema, payload),
        { msgID: msgId },
      );
      return;
    case "customImageUpdated":
      await bus.publish(
        events.customImageUpdated,
        fromBinary(eventsV1.CustomImageUpdatedSchema, payload),
        { msgID: msgId },
      );
      return;
    default:
      throw new Error(`outbox row ${msgId} names unknown event "${event}"`);
  }
}

/** Publishes what the image outbox holds. */
export interface ImageEventRelay {
  /**
   * Publishes every pending event, oldest first, and deletes each once
   * JetStream stored it; stops at the first failure (recorded on the row) and
   * throws it. Resolves with how many were published.
   */
  flush(): Promise<number>;
  /**
   * {@link flush} right after a commit, retried with backoff; a failure is
   * logged, not thrown: the change is committed and its event waits in the
   * outbox for the next flush.
   */
  flushAfterCommit(): Promise<void>;
  /** Flushes every `intervalMs` until stopped (events left by a failed publish or a crash). */
  start(intervalMs: number): { stop(): Promise<void> };
}

/** Options of {@link createImageEventRelay}. */
export interface ImageEventRelayOptions {
  readonly db: Kysely<CatalogDatabase>;
  readonly bus: Bus;
  readonly logger: Logger;
  /**
   * Delays between the attempts of {@link ImageEventRelay.flushAfterCommit}.
   * @default [100, 500, 2000]
   */
  readonly retryDelaysMs?: readonly number[];
}

const BATCH_SIZE = 100;

/** Creates the relay of the image outbox. */
export function createImageEventRelay(options: ImageEventRelayOptions): ImageEventRelay {
  const { db, bus } = options;
  const logger = options.logger.child({ component: "image-event-relay" });
  const retryDelaysMs = options.retryDelaysMs ?? [100, 500, 2000];

  async function flushBatch(): Promise<{ published: number; more: boolean }> {
    let failure: unknown;
    const published = await db.transaction().execute(async (trx) => {
      // SKIP LOCKED: concurrent relays (other requests, other replicas) take other rows.
      const rows = await trx
        .selectFrom("image_event_outbox")
        .selectAll()
        .orderBy("id")
        .limit(BATCH_SIZE)
        .forUpdate()
        .skipLocked()
        .execute();
      let count = 0;
      for (const row of rows) {
        try {
          await publishRow(bus, row.event, row.msg_id, row.payload);
        } catch (error) {
          failure = error;
          await trx
            .updateTable("image_event_outbox")
            .set({ attempts: row.attempts + 1, last_error: describe(error) })
            .where("id", "=", row.id)
            .execute();
          break;
        }
        await trx.deleteFrom("image_event_outbox").where("id", "=", row.id).execute();
        count += 1;
      }
      return { count, full: rows.length === BATCH_SIZE };
    });
    if (failure !== undefined) throw failure;
    return { published: published.count, more: published.full };
  }

  async function flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const { published, more } = await flushBatch();
      total += published;
      if (!more) return total;
    }
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
              "image events stay in the outbox: publishing failed; the relay will retry",
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
      let running: Promise<void> = Promise.resolve();
      const tick = () => {
        // A slow flush is not overlapped by the next tick.
        if (inFlight) return;
        inFlight = true;
        running = flush()
          .then(
            (count) => {
              if (count > 0) logger.info({ count }, "published image events left in the outbox");
            },
            (error: unknown) =>
              logger.warn({ err: error }, "image outbox flush failed; will retry"),
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
          await running;
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
