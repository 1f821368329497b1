import type { ApiKey } from "../identities/api-key.js";
import type { ApiKeyRow } from "./api-keys.table.js";
import type { EntitlementDb } from "./entitlement-database.js";

/** Maps a row to the domain type; the secret hash stays in the store. */
function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    identityId: row.identity_id,
    description: row.description,
    createdAt: new Date(row.created_at),
    ...(row.expires_at === null ? {} : { expiresAt: new Date(row.expires_at) }),
    ...(row.revoked_at === null ? {} : { revokedAt: new Date(row.revoked_at) }),
    ...(row.last_used_at === null ? {} : { lastUsedAt: new Date(row.last_used_at) }),
  };
}

/**
 * Stores an API key by the hash of its secret. Returns undefined instead of
 * failing when the id is already taken (`onConflict: "ignore"`).
 */
export async function insertApiKey(
  db: EntitlementDb,
  key: {
    id: string;
    identityId: string;
    secretHash: string;
    description: string;
    createdAt: Date;
    expiresAt?: Date;
  },
  options: { onConflict?: "fail" | "ignore" } = {},
): Promise<ApiKey | undefined> {
  let query = db.insertInto("api_keys").values({
    id: key.id,
    identity_id: key.identityId,
    secret_hash: key.secretHash,
    description: key.description,
    created_at: key.createdAt,
    expires_at: key.expiresAt ?? null,
  });
  if (options.onConflict === "ignore")
    query = query.onConflict((oc) => oc.column("id").doNothing());
  const row = await query.returningAll().executeTakeFirst();
  return row === undefined ? undefined : toApiKey(row);
}

/** Finds an API key by id. */
export async function findApiKey(db: EntitlementDb, id: string): Promise<ApiKey | undefined> {
  return (await findApiKeyCredential(db, id))?.key;
}

/** Finds an API key by id together with its secret hash, to check a presented secret. */
export async function findApiKeyCredential(
  db: EntitlementDb,
  id: string,
): Promise<{ key: ApiKey; secretHash: string } | undefined> {
  const row = await db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : { key: toApiKey(row), secretHash: row.secret_hash };
}

/** An identity's API keys, newest first. */
export async function listApiKeys(db: EntitlementDb, identityId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom("api_keys")
    .selectAll()
    .where("identity_id", "=", identityId)
    .orderBy("created_at", "desc")
    .orderBy("id")
    .execute();
  return rows.map(toApiKey);
}

/** Revokes a key (a revoked key keeps its first revocation time); undefined when unknown. */
export async function revokeApiKey(
  db: EntitlementDb,
  id: string,
  at: Date,
): Promise<ApiKey | undefined> {
  await db
    .updateTable("api_keys")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .execute();
  return findApiKey(db, id);
}

/** Revokes every live key of an identity. */
export async function revokeIdentityApiKeys(
  db: EntitlementDb,
  identityId: string,
  at: Date,
): Promise<void> {
  await db
    .updateTable("api_keys")
    .set({ revoked_at: at })
    .where("identity_id", "=", identityId)
    .where("revoked_at", "is", null)
    .execute();
}

/** Records that a key just minted a token. */
export async function touchApiKey(db: EntitlementDb, id: string, at: Date): Promise<void> {
  await db.updateTable("api_keys").set({ last_used_at: at }).where("id", "=", id).execute();
}
