/** @tailor/db — Kysely over Postgres (pg) or embedded PGlite, one schema and migration set per service. */

export type {
  ColumnType,
  Generated,
  Insertable,
  Kysely,
  Migration,
  Selectable,
  Transaction,
  Updateable,
} from "kysely";
export { sql } from "kysely";
export type { Database, DatabaseKind, DatabaseOptions } from "./database.js";
export { createDatabase, openServiceDatabase } from "./database.js";
export { DatabaseError, MigrationError } from "./errors.js";
export { toId } from "./to-id.js";
