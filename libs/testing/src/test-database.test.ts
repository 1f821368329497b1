import type { Database } from "@tailor/db";
import { createDatabase, sql } from "@tailor/db";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, TestServiceUnavailableError, testLogger } from "./index.js";

const serverUrl =
  process.env.TAILOR_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function databaseExists(name: string): Promise<boolean> {
  const admin = await createDatabase({ url: serverUrl, logger: testLogger(), poolSize: 1 });
  try {
    const result = await sql<{ datname: string }>`
      select datname from pg_database where datname = ${name}`.execute(admin.forSchema("public"));
    return result.rows.length === 1;
  } finally {
    await admin.close();
  }
}

async function userTables(database: Database): Promise<string[]> {
  const result = await sql<{ name: string }>`
    select table_schema || '.' || table_name as name from information_schema.tables
    where table_schema not in ('pg_catalog', 'information_schema')`.execute(
    database.forSchema("public"),
  );
  return result.rows.map((row) => row.name);
}

function nameOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

describe("createTestDatabase", () => {
  it("gives each caller its own empty database and drops it on cleanup", async () => {
    const first = await createTestDatabase();
    const second = await createTestDatabase();
    try {
      expect(nameOf(first.url)).toMatch(/^tailor_test_[0-9a-f]{12}$/);
      expect(nameOf(first.url)).not.toBe(nameOf(second.url));
      expect(first.database.kind).toBe("postgres");
      expect(await userTables(first.database)).toEqual([]);

      await sql`create table only_in_first (id integer)`.execute(
        first.database.forSchema("public"),
      );
      expect(await userTables(first.database)).toEqual(["public.only_in_first"]);
      expect(await userTables(second.database)).toEqual([]);
      expect(await databaseExists(nameOf(first.url))).toBe(true);
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
    expect(await databaseExists(nameOf(first.url))).toBe(false);
    expect(await databaseExists(nameOf(second.url))).toBe(false);
    // A second cleanup (say from afterEach after an explicit one) is harmless.
    await expect(first.cleanup()).resolves.toBeUndefined();
  });

  it("drops the database even when the test leaves connections open", async () => {
    const created = await createTestDatabase();
    const leaked = await createDatabase({ url: created.url, logger: testLogger() });
    await leaked.ping();
    await created.cleanup();
    expect(await databaseExists(nameOf(created.url))).toBe(false);
    await leaked.close().catch(() => {});
  });

  describe("when the configured server does not answer", () => {
    const saved = process.env.TAILOR_TEST_DATABASE_URL;
    afterEach(() => {
      if (saved === undefined) delete process.env.TAILOR_TEST_DATABASE_URL;
      else process.env.TAILOR_TEST_DATABASE_URL = saved;
    });

    it("names the URL it tried and how to start Postgres", async () => {
      process.env.TAILOR_TEST_DATABASE_URL = "postgres://postgres:hunter2@127.0.0.1:1/postgres";
      const error = await createTestDatabase().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TestServiceUnavailableError);
      const message = (error as Error).message;
      expect(message).toContain("postgres://postgres:***@127.0.0.1:1/postgres");
      expect(message).toContain("TAILOR_TEST_DATABASE_URL");
      expect(message).toContain("docker run");
      expect(message).not.toContain("hunter2");
    });
  });
});
