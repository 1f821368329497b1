import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/** What an organization may use: purchased source images and explicit package grants. */
export const createPurchasesAndGrants: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("purchases")
      .addColumn("org_id", "uuid", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("source_image", "text", (c) => c.notNull())
      .addColumn("purchased_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("purchases_pkey", ["org_id", "source_image"])
      .execute();
    await db.schema
      .createTable("package_grants")
      .addColumn("org_id", "uuid", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("package_name", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("granted_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("package_grants_pkey", ["org_id", "package_name"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("package_grants").execute();
    await db.schema.dropTable("purchases").execute();
  },
};
