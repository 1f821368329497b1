import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { sql } from "@tailor/db";
import { describe, expect, it } from "vitest";
import { createTestPglite } from "./index.js";

describe("createTestPglite", () => {
  it("opens separate PGlite databases in temporary directories and removes them", async () => {
    const first = await createTestPglite();
    const second = await createTestPglite();
    try {
      expect(first.database.kind).toBe("pglite");
      expect(first.dataDir.startsWith(tmpdir())).toBe(true);
      expect(first.dataDir).not.toBe(second.dataDir);

      await sql`create table only_in_first (id integer)`.execute(
        first.database.forSchema("public"),
      );
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public'`.execute(
        second.database.forSchema("public"),
      );
      expect(tables.rows).toEqual([]);
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
    expect(existsSync(first.dataDir)).toBe(false);
    expect(existsSync(second.dataDir)).toBe(false);
  });
});
