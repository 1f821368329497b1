import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * When each log line was stored: the recorder stores a build's lines
 * concurrently, so a reader waits a bounded time for a missing seq, measured
 * from when the line after it was stored.
 */
export const logLinesRecordedAt: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("build_log_lines")
      .addColumn("recorded_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("build_log_lines").dropColumn("recorded_at").execute();
  },
};
