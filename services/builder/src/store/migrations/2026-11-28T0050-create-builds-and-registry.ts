import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";
import { createOutboxTable, dropOutboxTable } from "@tailor/outbox";

/**
 * Builds (with their locked configs and closure names for the planner), the
 * custom images the planner knows, planned rebuilds, and registry storage:
 * repositories, manifests, the blobs each repository references, tags and
 * every tag move. Plus the outbox of build events and jobs.
 */
export const createBuildsAndRegistry: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("builds")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("custom_image", "text", (c) => c.notNull())
      .addColumn("revision", "integer", (c) => c.notNull())
      .addColumn("source_image", "text", (c) => c.notNull())
      .addColumn("trigger", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("started_at", "timestamptz")
      .addColumn("finished_at", "timestamptz")
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("worker", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("digests", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("tags", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("failure_reason", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("failure_message", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("locked_config", "jsonb")
      // { arch: [package names and the names they provide] } of the locked closure.
      .addColumn("closure_names", "jsonb")
      .addColumn("closure_hash", "text")
      .addColumn("log_seq", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex("builds_image_idx")
      .on("builds")
      .columns(["org_id", "custom_image", "created_at"])
      .execute();

    await db.schema
      .createTable("custom_images")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("source_image", "text", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("custom_images_pkey", ["org_id", "name"])
      .execute();
    await db.schema
      .createIndex("custom_images_source_image_idx")
      .on("custom_images")
      .column("source_image")
      .execute();

    await db.schema
      .createTable("planned_rebuilds")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("custom_image", "text", (c) => c.notNull())
      .addColumn("revision", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("trigger", "text", (c) => c.notNull())
      // When the first event asking for it happened: a build created later covers it.
      .addColumn("planned_at", "timestamptz", (c) => c.notNull())
      .addColumn("due_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("planned_rebuilds_pkey", ["org_id", "custom_image"])
      .execute();

    await db.schema
      .createTable("repositories")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("custom_image", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable("manifests")
      .addColumn("repository", "text", (c) => c.notNull().references("repositories.name"))
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("media_type", "text", (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("build_id", "uuid", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("manifests_pkey", ["repository", "digest"])
      .execute();

    await db.schema
      .createTable("repository_blobs")
      .addColumn("repository", "text", (c) => c.notNull().references("repositories.name"))
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("media_type", "text", (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("repository_blobs_pkey", ["repository", "digest"])
      .execute();

    await db.schema
      .createTable("tags")
      .addColumn("repository", "text", (c) => c.notNull().references("repositories.name"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("build_id", "uuid", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("tags_pkey", ["repository", "name"])
      .execute();

    await db.schema
      .createTable("tag_moves")
      .addColumn("id", "bigserial", (c) => c.primaryKey())
      .addColumn("repository", "text", (c) => c.notNull().references("repositories.name"))
      .addColumn("tag", "text", (c) => c.notNull())
      .addColumn("from_digest", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("to_digest", "text", (c) => c.notNull())
      .addColumn("build_id", "uuid", (c) => c.notNull())
      .addColumn("moved_at", "timestamptz", (c) => c.notNull())
      // A build moves a tag at most once, however often its job is redelivered.
      .addUniqueConstraint("tag_moves_once_per_build", ["repository", "tag", "build_id"])
      .execute();

    await createOutboxTable(db, "event_outbox");
  },
  async down(db: Kysely<unknown>) {
    await dropOutboxTable(db, "event_outbox");
    for (const table of [
      "tag_moves",
      "tags",
      "repository_blobs",
      "manifests",
      "repositories",
      "planned_rebuilds",
      "custom_images",
      "builds",
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
