import type { Kysely, Migration, MigrationResult } from "kysely";
import { Migrator, sql } from "kysely";
import { describeCause, MigrationError } from "./errors.js";
import { assertSchemaName } from "./schema-name.js";

/**
 * Wraps each migration so that it runs against `schema`: query builders get
 * `withSchema(schema)`, and raw SQL resolves unqualified names through a
 * transaction-local search_path, so `sql\`create table x ...\`` lands in the
 * service schema too. `public` stays on the path for extension functions.
 */
function scopeMigrations(
  schema: string,
  migrations: Record<string, Migration>,
): Record<string, Migration> {
  const searchPath = `"${schema}", public`;
  const inSchema =
    (step: Migration["up"]): Migration["up"] =>
    async (db) => {
      await sql`select set_config('search_path', ${searchPath}, true)`.execute(db);
      await step(db.withSchema(schema));
    };
  const scoped: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(migrations)) {
    const wrapped: Migration = { up: inSchema((db) => migration.up(db)) };
    const down = migration.down;
    if (down !== undefined) wrapped.down = inSchema((db) => down.call(migration, db));
    scoped[name] = wrapped;
  }
  return scoped;
}

function failedMigration(results: MigrationResult[] | undefined): string | undefined {
  return results?.find((result) => result.status === "Error")?.migrationName;
}

/**
 * Applies the pending migrations of one schema, each in its own transaction,
 * and returns the names applied. The schema and its `kysely_migration` and
 * `kysely_migration_lock` tables are created by kysely's Migrator (which
 * tolerates another process creating them at the same moment).
 */
export async function migrateSchema(
  db: Kysely<unknown>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<{ applied: string[] }> {
  assertSchemaName(schema);
  const scoped = scopeMigrations(schema, migrations);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => scoped },
    migrationTableSchema: schema,
  });

  const applied: string[] = [];
  // One migration per transaction (migrateUp) rather than all in one
  // (migrateToLatest): a failure then keeps the migrations before it applied,
  // and the error names exactly the one to fix.
  for (;;) {
    const { error, results } = await migrator.migrateUp();
    if (error !== undefined) {
      const migration = failedMigration(results);
      const what =
        migration === undefined
          ? `Migrating schema "${schema}" failed`
          : `Migration "${migration}" in schema "${schema}" failed`;
      throw new MigrationError(
        `${what}: ${describeCause(error)}`,
        { schema, migration },
        { cause: error },
      );
    }
    const done = (results ?? [])
      .filter((result) => result.status === "Success")
      .map((result) => result.migrationName);
    if (done.length === 0) return { applied };
    applied.push(...done);
  }
}
