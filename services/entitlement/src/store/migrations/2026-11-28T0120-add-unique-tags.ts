import type { Kysely, Migration } from "@tailor/db";

/** Unique tags: whether builds of an organization also push `<version>-<YYYYMMDDHHMMSS>`. */
export const addUniqueTags: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("organizations")
      .addColumn("unique_tags", "boolean", (c) => c.notNull().defaultTo(false))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("organizations").dropColumn("unique_tags").execute();
  },
};
