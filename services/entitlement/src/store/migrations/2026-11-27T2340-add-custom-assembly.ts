import type { Kysely, Migration } from "@tailor/db";

/** Custom assembly: whether an organization may customize images, and which source images. */
export const addCustomAssembly: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable("organizations")
      .addColumn("custom_assembly_enabled", "boolean", (c) => c.notNull().defaultTo(false))
      .execute();
    await db.schema
      .createTable("customizable_source_images")
      .addColumn("org_id", "uuid", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("source_image", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("customizable_source_images_pkey", ["org_id", "source_image"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("customizable_source_images").execute();
    await db.schema.alterTable("organizations").dropColumn("custom_assembly_enabled").execute();
  },
};
