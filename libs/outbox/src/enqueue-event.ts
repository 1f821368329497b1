import type { Message, MessageInitShape } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { EventType } from "@tailor/bus";
import type { Kysely, Transaction } from "@tailor/db";
import type { OutboxDb } from "./outbox-table.js";
import { DEFAULT_OUTBOX_TABLE } from "./outbox-table.js";

/** One event to write into the outbox. */
export interface OutboxEntry<T extends Message> {
  /** The payload, as `bus.publish` takes it. */
  readonly message: MessageInitShape<GenMessage<T>>;
  /** Stable message id, e.g. `org.created:<org_id>`. */
  readonly msgID: string;
}

/** Options of {@link enqueueEvent} and {@link enqueueEvents}. */
export interface EnqueueOptions {
  /** @default "event_outbox" */
  readonly table?: string;
}

/** Rows per multi-row insert: 7 columns each stays far below Postgres' 65,535 parameters. */
const INSERT_BATCH = 500;

/**
 * Writes events into the outbox inside the caller's transaction (pass the
 * `trx`), protobuf-encoded, so they exist exactly when the change they
 * announce is committed. An event already waiting under the same msgID is kept as is.
 */
export async function enqueueEvents<DB, T extends Message>(
  trx: Kysely<DB> | Transaction<DB>,
  eventType: EventType<T>,
  entries: readonly OutboxEntry<NoInfer<T>>[],
  options: EnqueueOptions = {},
): Promise<void> {
  const db = trx as unknown as OutboxDb;
  const table = options.table ?? DEFAULT_OUTBOX_TABLE;
  for (let start = 0; start < entries.length; start += INSERT_BATCH) {
    await db
      .insertInto(table)
      .values(
        entries.slice(start, start + INSERT_BATCH).map((entry) => ({
          event_type: eventType.key,
          msg_id: entry.msgID,
          payload: toBinary(eventType.schema, create(eventType.schema, entry.message)),
        })),
      )
      .onConflict((conflict) => conflict.column("msg_id").doNothing())
      .execute();
  }
}

/** Writes one event into the outbox inside the caller's transaction (see {@link enqueueEvents}). */
export async function enqueueEvent<DB, T extends Message>(
  trx: Kysely<DB> | Transaction<DB>,
  eventType: EventType<T>,
  message: MessageInitShape<GenMessage<NoInfer<T>>>,
  msgID: string,
  options: EnqueueOptions = {},
): Promise<void> {
  await enqueueEvents(trx, eventType, [{ message, msgID }], options);
}
