import type { SigningKey } from "@tailor/auth";
import type { Kysely } from "@tailor/db";
import type { StoredSigningKey } from "../tokens/stored-signing-key.js";
import { takeAdvisoryLock } from "./advisory-lock.js";
import type { EntitlementDatabase, EntitlementDb } from "./entitlement-database.js";
import type { TokenSigningKeyRow } from "./token-signing-keys.table.js";

// Serialises first-key creation and rotation across replicas.
const SIGNING_KEYS_LOCK = "tailor.entitlement.token_signing_keys";

/** Maps a row to the domain type. */
function toStoredSigningKey(row: TokenSigningKeyRow): StoredSigningKey {
  return {
    id: row.id,
    publicKeyPem: row.public_key_pem,
    privateKeyPem: row.private_key_pem,
    createdAt: new Date(row.created_at),
    ...(row.retired_at === null ? {} : { retiredAt: new Date(row.retired_at) }),
  };
}

/** The key tokens are signed with now, if there is one. */
export async function findCurrentSigningKey(
  db: EntitlementDb,
): Promise<StoredSigningKey | undefined> {
  const row = await db
    .selectFrom("token_signing_keys")
    .selectAll()
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return row === undefined ? undefined : toStoredSigningKey(row);
}

/** The current key first, then keys retired after `retiredAfter`, newest first. */
export async function listVerificationKeys(
  db: EntitlementDb,
  retiredAfter: Date,
): Promise<StoredSigningKey[]> {
  const rows = await db
    .selectFrom("token_signing_keys")
    .selectAll()
    .where((eb) => eb.or([eb("retired_at", "is", null), eb("retired_at", ">", retiredAfter)]))
    // The current key (no retired_at) first, then the most recently retired.
    .orderBy("retired_at", (ob) => ob.desc().nullsFirst())
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(toStoredSigningKey);
}

/**
 * Stores `key` as the current key unless one exists, and returns the current
 * key. Replicas starting together take turns on an advisory lock, and the
 * unique partial index on current keys backs that up.
 */
export async function createCurrentSigningKeyIfMissing(
  db: Kysely<EntitlementDatabase>,
  key: SigningKey,
  now: Date,
): Promise<StoredSigningKey> {
  return db.transaction().execute(async (trx) => {
    await takeAdvisoryLock(trx, SIGNING_KEYS_LOCK);
    const current = await findCurrentSigningKey(trx);
    if (current !== undefined) return current;
    const row = await trx
      .insertInto("token_signing_keys")
      .values({
        id: key.id,
        public_key_pem: key.publicKeyPem,
        private_key_pem: key.privateKeyPem,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toStoredSigningKey(row);
  });
}

/** Retires the current key at `now` and stores `key` as the new current key. */
export async function rotateSigningKey(
  db: Kysely<EntitlementDatabase>,
  key: SigningKey,
  now: Date,
): Promise<StoredSigningKey> {
  return db.transaction().execute(async (trx) => {
    await takeAdvisoryLock(trx, SIGNING_KEYS_LOCK);
    await trx
      .updateTable("token_signing_keys")
      .set({ retired_at: now })
      .where("retired_at", "is", null)
      .execute();
    const row = await trx
      .insertInto("token_signing_keys")
      .values({
        id: key.id,
        public_key_pem: key.publicKeyPem,
        private_key_pem: key.privateKeyPem,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toStoredSigningKey(row);
  });
}
