import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * Builds (one row merged from each build's events), their log lines keyed
 * (build_id, seq), and the tag moves of successful builds.
 */
export const createBuildsLogsAndTags: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("builds")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("custom_image", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("revision", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("trigger", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("version", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("digests", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("tags", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("queued_at", "timestamptz")
      .addColumn("started_at", "timestamptz")
      .addColumn("completed_at", "timestamptz")
      .addColumn("duration_ms", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("worker", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("failure_code", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("failure_message", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("up_to_date", "boolean", (c) => c.notNull().defaultTo(false))
      .execute();
    await db.schema
      .createIndex("builds_org_created_idx")
      .on("builds")
      .columns(["org_id", "created_at", "id"])
      .execute();
    await db.schema
      .createIndex("builds_image_created_idx")
      .on("builds")
      .columns(["org_id", "custom_image", "created_at", "id"])
      .execute();
    await db.schema
      .createTable("build_log_lines")
      .addColumn("build_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("time", "timestamptz", (c) => c.notNull())
      .addColumn("level", "text", (c) => c.notNull())
      .addColumn("step", "text", (c) => c.notNull())
      .addColumn("text", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("build_log_lines_pk", ["build_id", "seq"])
      .execute();
    await db.schema
      .createIndex("build_log_lines_time_idx")
      .on("build_log_lines")
      .column("time")
      .execute();
    await db.schema
      .createTable("tag_moves")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("custom_image", "text", (c) => c.notNull())
      .addColumn("tag", "text", (c) => c.notNull())
      .addColumn("build_id", "text", (c) => c.notNull())
      .addColumn("digests", "jsonb", (c) => c.notNull())
      .addColumn("moved_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("tag_moves_pk", ["build_id", "tag"])
      .execute();
    await db.schema
      .createIndex("tag_moves_tag_idx")
      .on("tag_moves")
      .columns(["org_id", "custom_image", "tag", "moved_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("tag_moves").execute();
    await db.schema.dropTable("build_log_lines").execute();
    await db.schema.dropTable("builds").execute();
  },
};
