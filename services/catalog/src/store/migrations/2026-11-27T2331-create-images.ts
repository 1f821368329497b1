import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/** Source images and custom images with their revisions, and the outbox of their events. */
export const createImages: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("source_images")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("main_package", "text", (c) => c.notNull())
      .addColumn("definition", "jsonb", (c) => c.notNull())
      .addColumn("yaml", "text", (c) => c.notNull())
      .addColumn("generation", "integer", (c) => c.notNull().check(sql`generation >= 1`))
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable("custom_images")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("source_image", "text", (c) => c.notNull().references("source_images.name"))
      .addColumn("latest_revision", "integer", (c) => c.notNull().check(sql`latest_revision >= 1`))
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("custom_images_pkey", ["org_id", "name"])
      .execute();
    // The rebuild planner asks "which custom images use source image S?".
    await db.schema
      .createIndex("custom_images_source_image_idx")
      .on("custom_images")
      .column("source_image")
      .execute();

    await db.schema
      .createTable("custom_image_revisions")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("revision", "integer", (c) => c.notNull().check(sql`revision >= 1`))
      .addColumn("overlay", "jsonb", (c) => c.notNull())
      .addColumn("author_name", "text", (c) => c.notNull())
      .addColumn("author_subject", "text", (c) => c.notNull())
      .addColumn("comment", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("custom_image_revisions_pkey", ["org_id", "name", "revision"])
      .addForeignKeyConstraint(
        "custom_image_revisions_image_fkey",
        ["org_id", "name"],
        "custom_images",
        ["org_id", "name"],
      )
      .execute();

    await db.schema
      .createTable("image_event_outbox")
      .addColumn("id", "bigserial", (c) => c.primaryKey())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("msg_id", "text", (c) => c.notNull().unique())
      .addColumn("payload", "bytea", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("last_error", "text")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("image_event_outbox").execute();
    await db.schema.dropTable("custom_image_revisions").execute();
    await db.schema.dropTable("custom_images").execute();
    await db.schema.dropTable("source_images").execute();
  },
};
