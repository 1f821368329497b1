import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * Ed25519 keys that sign tokens. Exactly one is current (retired_at null),
 * enforced by a unique partial index so two replicas starting at once cannot
 * both create one.
 */
export const createTokenSigningKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("token_signing_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("public_key_pem", "text", (c) => c.notNull())
      .addColumn("private_key_pem", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("retired_at", "timestamptz")
      .execute();
    await sql`create unique index token_signing_keys_one_current
      on token_signing_keys ((retired_at is null)) where retired_at is null`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("token_signing_keys").execute();
  },
};
