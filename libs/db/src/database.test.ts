import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSilentLogger } from "@tailor/log";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backends, type TestBackend } from "../test/backends.js";
import type { Generated, Kysely, Migration } from "./index.js";
import {
  createDatabase,
  DatabaseError,
  MigrationError,
  openServiceDatabase,
  sql,
  toId,
} from "./index.js";

interface ItemsTable {
  id: Generated<string>;
  name: string;
}
interface CatalogDb {
  items: ItemsTable;
}

const createItems: Migration = {
  async up(db) {
    await db.schema
      .createTable("items")
      .addColumn("id", "bigserial", (column) => column.primaryKey())
      .addColumn("name", "text", (column) => column.notNull())
      .execute();
    await db.schema.createIndex("items_name_idx").on("items").column("name").execute();
  },
  async down(db) {
    await db.schema.dropTable("items").execute();
  },
};

// Raw SQL does not go through withSchema; the migrator's search_path must place it.
const createNotesWithRawSql: Migration = {
  async up(db) {
    await sql`create table notes (id integer primary key)`.execute(db);
  },
};

async function tablesIn(database: Kysely<unknown>, schema: string): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${schema} order by table_name`.execute(database);
  return result.rows.map((row) => row.table_name);
}

describe.each(backends)("Database on $kind", ({ kind, create }) => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await create();
  });
  afterEach(async () => {
    await backend.cleanup();
  });

  it("reports its kind", () => {
    expect(backend.database.kind).toBe(kind);
  });

  it("applies migrations once, in the service schema, and is idempotent", async () => {
    const { database } = backend;
    const migrations = {
      "2024_01_01_items": createItems,
      "2024_01_02_notes": createNotesWithRawSql,
    };

    await expect(database.migrate("catalog", migrations)).resolves.toEqual({
      applied: ["2024_01_01_items", "2024_01_02_notes"],
    });
    await expect(database.migrate("catalog", migrations)).resolves.toEqual({ applied: [] });

    const root = database.forSchema<unknown>("public");
    expect(await tablesIn(root, "catalog")).toEqual([
      "items",
      "kysely_migration",
      "kysely_migration_lock",
      "notes",
    ]);
    expect(await tablesIn(root, "public")).toEqual([]);
    const indexes = await sql<{ schemaname: string }>`
      select schemaname from pg_indexes where indexname = 'items_name_idx'`.execute(root);
    expect(indexes.rows).toEqual([{ schemaname: "catalog" }]);
  });

  it("names the failing migration and keeps the ones before it", async () => {
    const { database } = backend;
    const broken: Migration = {
      async up(db) {
        await sql`create table half_done (id integer)`.execute(db);
        await sql`select * from no_such_table`.execute(db);
      },
    };

    const error = await database
      .migrate("catalog", { "001_items": createItems, "002_broken": broken })
      .catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ schema: "catalog", migration: "002_broken" });
    expect((error as Error).message).toMatch(/Migration "002_broken" in schema "catalog" failed/);
    expect((error as Error).message).toMatch(/no_such_table/);
    const root = database.forSchema<unknown>("public");
    // The broken migration ran in its own transaction, so its first statement is rolled back too.
    expect(await tablesIn(root, "catalog")).toEqual([
      "items",
      "kysely_migration",
      "kysely_migration_lock",
    ]);

    await expect(
      database.migrate("catalog", { "001_items": createItems, "002_notes": createNotesWithRawSql }),
    ).resolves.toEqual({ applied: ["002_notes"] });
  });

  it("commits and rolls back transactions", async () => {
    const db = await openServiceDatabase<CatalogDb>(backend.database, {
      schema: "catalog",
      migrations: { "001_items": createItems },
      logger: createSilentLogger(),
    });

    await db.transaction().execute(async (trx) => {
      await trx.insertInto("items").values({ name: "kept" }).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("items").values({ name: "discarded" }).execute();
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");

    const names = await db.selectFrom("items").select("name").execute();
    expect(names).toEqual([{ name: "kept" }]);
  });

  it("returns bigserial ids that toId turns into the same string", async () => {
    const db = await openServiceDatabase<CatalogDb>(backend.database, {
      schema: "catalog",
      migrations: { "001_items": createItems },
      logger: createSilentLogger(),
    });

    const inserted = await db
      .insertInto("items")
      .values([{ name: "a" }, { name: "b" }])
      .returning("id")
      .execute();
    const ids = inserted.map((row) => toId(row.id));
    expect(ids).toEqual(["1", "2"]);
    const found = await db.selectFrom("items").select("id").where("id", "=", ids[1]!).execute();
    expect(found.map((row) => toId(row.id))).toEqual(["2"]);
  });

  it("keeps two services apart in two schemas of one Database", async () => {
    const { database } = backend;
    const migrations = { "001_items": createItems };
    const catalog = await openServiceDatabase<CatalogDb>(database, {
      schema: "catalog",
      migrations,
      logger: createSilentLogger(),
    });
    const builds = await openServiceDatabase<CatalogDb>(database, {
      schema: "builds",
      migrations,
      logger: createSilentLogger(),
    });

    await catalog.insertInto("items").values({ name: "in catalog" }).execute();
    await builds.insertInto("items").values({ name: "in builds" }).execute();

    expect(await catalog.selectFrom("items").select("name").execute()).toEqual([
      { name: "in catalog" },
    ]);
    expect(await builds.selectFrom("items").select("name").execute()).toEqual([
      { name: "in builds" },
    ]);
    const migrationTables = await sql<{ table_schema: string }>`
      select table_schema from information_schema.tables
      where table_name = 'kysely_migration' order by table_schema`.execute(
      database.forSchema("public"),
    );
    expect(migrationTables.rows).toEqual([{ table_schema: "builds" }, { table_schema: "catalog" }]);
  });

  it("keeps data when the same storage is opened again", async () => {
    const first = await openServiceDatabase<CatalogDb>(backend.database, {
      schema: "catalog",
      migrations: { "001_items": createItems },
      logger: createSilentLogger(),
    });
    await first.insertInto("items").values({ name: "persisted" }).execute();
    await backend.database.close();

    const reopened = await backend.reopen();
    try {
      await expect(reopened.migrate("catalog", { "001_items": createItems })).resolves.toEqual({
        applied: [],
      });
      const rows = await reopened
        .forSchema<CatalogDb>("catalog")
        .selectFrom("items")
        .select("name")
        .execute();
      expect(rows).toEqual([{ name: "persisted" }]);
    } finally {
      await reopened.close();
    }
  });

  it("rejects schema names that are not plain identifiers", async () => {
    const { database } = backend;
    expect(() => database.forSchema('catalog"; drop table x; --')).toThrow(DatabaseError);
    expect(() => database.forSchema("Catalog")).toThrow(/Invalid schema name/);
    await expect(database.migrate("1catalog", {})).rejects.toThrow(/Invalid schema name/);
  });

  it("answers ping and can be closed twice", async () => {
    await expect(backend.database.ping()).resolves.toBeUndefined();
    await backend.database.close();
    await expect(backend.database.close()).resolves.toBeUndefined();
  });
});

describe("createDatabase", () => {
  it("names the Postgres host it could not reach, without the password", async () => {
    const error = await createDatabase({
      url: "postgres://postgres:secret@127.0.0.1:1/nowhere",
      logger: createSilentLogger(),
    }).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toMatch(/postgres@127\.0\.0\.1:1\/nowhere/);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).not.toMatch(/secret/);
  });

  it("requires a URL or a data directory", async () => {
    await expect(createDatabase({ logger: createSilentLogger() })).rejects.toThrow(/DATABASE_URL/);
  });

  it("refuses a second PGlite instance on an open data directory", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "tailor-db-test-"));
    const logger = createSilentLogger();
    const first = await createDatabase({ dataDir, logger });
    try {
      await expect(createDatabase({ dataDir, logger })).rejects.toThrow(/already open/);
    } finally {
      await first.close();
    }
    // Closing frees the directory for the next start.
    const second = await createDatabase({ dataDir, logger });
    await second.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("runs PGlite in memory", async () => {
    const database = await createDatabase({ dataDir: "memory://", logger: createSilentLogger() });
    try {
      expect(database.kind).toBe("pglite");
      await database.ping();
    } finally {
      await database.close();
    }
  });
});
