import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * Identities (members of one organization with a role, or platform
 * administrators without one) and their API keys, stored as hashes only.
 * Deleting an identity keeps its row (deleted_at) so its revoked keys stay
 * explainable; names are unique among live identities only.
 */
export const createIdentitiesAndApiKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("identities")
      .addColumn("id", "uuid", (c) => c.primaryKey())
      .addColumn("org_id", "uuid", (c) => c.references("organizations.id").onDelete("cascade"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("role", "text")
      .addColumn("administrator", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("deleted_at", "timestamptz")
      // A member has an organization and a role; an administrator has neither.
      .addCheckConstraint(
        "identities_member_or_administrator",
        sql`(administrator and org_id is null and role is null)
          or (not administrator and org_id is not null and role in ('viewer', 'editor', 'owner'))`,
      )
      .execute();
    await sql`create unique index identities_live_member_name
      on identities (org_id, name) where deleted_at is null and org_id is not null`.execute(db);
    await sql`create unique index identities_live_administrator_name
      on identities (name) where deleted_at is null and administrator`.execute(db);

    await db.schema
      .createTable("api_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("identity_id", "uuid", (c) =>
        c.notNull().references("identities.id").onDelete("cascade"),
      )
      .addColumn("secret_hash", "text", (c) => c.notNull())
      .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("expires_at", "timestamptz")
      .addColumn("revoked_at", "timestamptz")
      .addColumn("last_used_at", "timestamptz")
      .execute();
    await db.schema
      .createIndex("api_keys_identity_id")
      .on("api_keys")
      .columns(["identity_id", "created_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("api_keys").execute();
    await db.schema.dropTable("identities").execute();
  },
};
