import type { Kysely, Migration } from "@tailor/db";
import { sql } from "@tailor/db";

/**
 * Organizations' APK repository signing keys. At most one current key per
 * organization (retired_at null), enforced by a unique partial index so two
 * gateways creating the first key at once cannot both succeed.
 */
export const createApkSigningKeys: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("apk_signing_keys")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("public_key_pem", "text", (c) => c.notNull())
      .addColumn("private_key_pem", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("retired_at", "timestamptz")
      .addColumn("signs_until", "timestamptz")
      .addColumn("listed_until", "timestamptz")
      .execute();
    await sql`create unique index apk_signing_keys_one_current
      on apk_signing_keys (org_id) where retired_at is null`.execute(db);
    await db.schema
      .createIndex("apk_signing_keys_org_idx")
      .on("apk_signing_keys")
      .columns(["org_id", "created_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("apk_signing_keys").execute();
  },
};
