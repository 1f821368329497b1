import type { ColumnType, Generated, Kysely } from "@tailor/db";
import { sql } from "@tailor/db";

/** Name of a service's outbox table unless it chooses another. */
export const DEFAULT_OUTBOX_TABLE = "event_outbox";

/**
 * Row shape of an outbox table: one event written in the same transaction
 * as the change it announces, deleted once JetStream stored it.
 */
export interface OutboxTable {
  /** Insertion order: the relay publishes oldest first. */
  id: Generated<string>;
  /** Key of the event type in the bus catalogue, e.g. `catalog.package.published`. */
  event_type: string;
  /** The stable message id JetStream de-duplicates on. */
  msg_id: string;
  /** The protobuf message, binary encoded. */
  payload: Uint8Array;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** Failed publishes so far. */
  attempts: ColumnType<number, number | undefined, number>;
  /** Why the last publish failed, or null. */
  last_error: string | null;
}

/** The outbox table of a service's database type, under `Name` (e.g. `interface Db extends OutboxTables {}`). */
export type OutboxTables<Name extends string = typeof DEFAULT_OUTBOX_TABLE> = {
  [K in Name]: OutboxTable;
};

/**
 * Creates an outbox table for a migration, in the schema the migration runs
 * in (its search_path), e.g. `await createOutboxTable(db, "event_outbox")`.
 */
export async function createOutboxTable<DB>(
  db: Kysely<DB>,
  table: string = DEFAULT_OUTBOX_TABLE,
): Promise<void> {
  await db.schema
    .createTable(table)
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("msg_id", "text", (c) => c.notNull().unique())
    .addColumn("payload", "bytea", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .execute();
}

/** Drops an outbox table created by {@link createOutboxTable} (a migration's `down`). */
export async function dropOutboxTable<DB>(
  db: Kysely<DB>,
  table: string = DEFAULT_OUTBOX_TABLE,
): Promise<void> {
  await db.schema.dropTable(table).ifExists().execute();
}

/** The outbox table as the lib queries it, whatever else the caller's database holds. */
export type OutboxDb = Kysely<Record<string, OutboxTable>>;
