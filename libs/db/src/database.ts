import type { Logger } from "@tailor/log";
import type { Kysely, Migration } from "kysely";
import { sql } from "kysely";
import { DatabaseError, describeCause } from "./errors.js";
import { migrateSchema } from "./migrate.js";
import { openPglite } from "./pglite-connection.js";
import { openPostgres } from "./postgres-connection.js";
import { assertSchemaName } from "./schema-name.js";

/** Which engine a {@link Database} runs on. */
export type DatabaseKind = "postgres" | "pglite";

/** Options for {@link createDatabase}. */
export interface DatabaseOptions {
  /**
   * Postgres connection URL (DATABASE_URL). When set (and not empty) the
   * database is Postgres through a pg Pool; otherwise it is embedded PGlite.
   */
  url?: string | undefined;
  /**
   * PGlite data directory, created when missing; required when `url` is unset.
   * "memory://" keeps the data in memory (tests).
   */
  dataDir?: string | undefined;
  /** Logger for connection events; pass a child of the service or process logger. */
  logger: Logger;
  /**
   * Maximum Postgres connections in the pool (ignored for PGlite).
   * @default 10
   */
  poolSize?: number | undefined;
  /**
   * How long opening a Postgres connection may take before it fails (ignored for PGlite).
   * @default 10000
   */
  connectTimeoutMs?: number | undefined;
}

/**
 * One connection pool (Postgres) or embedded instance (PGlite) shared by every
 * service in a process; each service works in its own Postgres schema.
 */
export interface Database {
  /** Engine behind this database. */
  readonly kind: DatabaseKind;
  /**
   * Kysely scoped to one Postgres schema with `withSchema`, so one pool or PGlite
   * instance serves several services. Raw `sql` is not rewritten: qualify names
   * there. Do not call `destroy()` on it; {@link Database.close} owns the connection.
   */
  forSchema<DB>(schema: string): Kysely<DB>;
  /**
   * Creates the schema if missing and applies pending migrations with kysely's
   * Migrator, each in its own transaction, keeping `kysely_migration` and its
   * lock table in that schema. Returns the names applied; throws MigrationError
   * naming the failing migration.
   */
  migrate(schema: string, migrations: Record<string, Migration>): Promise<{ applied: string[] }>;
  /** Runs `SELECT 1`; throws DatabaseError naming the host or directory when it fails. */
  ping(): Promise<void>;
  /** Ends the pool or shuts PGlite down (flushing it to disk); safe to call twice. */
  close(): Promise<void>;
}

const defaultPoolSize = 10;
const defaultConnectTimeoutMs = 10_000;

class KyselyDatabase implements Database {
  readonly kind: DatabaseKind;
  readonly #root: Kysely<unknown>;
  readonly #target: string;
  readonly #onClose: () => void;
  #closing: Promise<void> | undefined;

  constructor(kind: DatabaseKind, root: Kysely<unknown>, target: string, onClose: () => void) {
    this.kind = kind;
    this.#root = root;
    this.#target = target;
    this.#onClose = onClose;
  }

  forSchema<DB>(schema: string): Kysely<DB> {
    assertSchemaName(schema);
    return this.#root.withSchema(schema) as unknown as Kysely<DB>;
  }

  migrate(schema: string, migrations: Record<string, Migration>): Promise<{ applied: string[] }> {
    return migrateSchema(this.#root, schema, migrations);
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#root);
    } catch (error) {
      throw new DatabaseError(`Cannot reach ${this.#target}: ${describeCause(error)}`, {
        cause: error,
      });
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#root.destroy().finally(this.#onClose);
    return this.#closing;
  }
}

/**
 * Opens Postgres (when `url` is set) or PGlite (in `dataDir`) and verifies it
 * answers `SELECT 1`, failing with a DatabaseError that names the host or directory.
 * Open one per process: PGlite allows a single instance per data directory, so
 * the all-in-one shares this Database across services, one schema each.
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const url = options.url === "" ? undefined : options.url;
  let database: Database;
  let target: string;
  if (url !== undefined) {
    const postgres = openPostgres({
      url,
      poolSize: options.poolSize ?? defaultPoolSize,
      connectTimeoutMs: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
      logger: options.logger,
    });
    target = `Postgres at ${postgres.target}`;
    database = new KyselyDatabase("postgres", postgres.kysely, target, () => {});
  } else if (options.dataDir !== undefined && options.dataDir !== "") {
    const { kysely, dataDir, release } = await openPglite(options.dataDir);
    target = `PGlite in ${dataDir}`;
    database = new KyselyDatabase("pglite", kysely, target, release);
  } else {
    throw new DatabaseError(
      "No database configured: set a Postgres URL (DATABASE_URL) or a PGlite data directory",
    );
  }

  try {
    await database.ping();
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  options.logger.debug({ kind: database.kind, target }, "database ready");
  return database;
}

/**
 * Migrates a service's schema and returns Kysely scoped to it: the one call a
 * service makes at startup. Logs the migrations applied.
 */
export async function openServiceDatabase<DB>(
  database: Database,
  options: { schema: string; migrations: Record<string, Migration>; logger: Logger },
): Promise<Kysely<DB>> {
  const { applied } = await database.migrate(options.schema, options.migrations);
  if (applied.length > 0) {
    options.logger.info({ schema: options.schema, applied }, "applied database migrations");
  } else {
    options.logger.debug({ schema: options.schema }, "database schema up to date");
  }
  return database.forSchema<DB>(options.schema);
}
