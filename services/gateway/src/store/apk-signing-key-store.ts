import type { Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import type { ApkRepositoryKey, ApkSigningKey } from "../apk/repository-key.js";
import type { ApkSigningKeyRow } from "./apk-keys.table.js";
import type { GatewayDatabase, GatewayDb } from "./gateway-database.js";

/** Every column but the private key: what listings and key files read. */
const PUBLIC_COLUMNS = [
  "name",
  "org_id",
  "public_key_pem",
  "created_at",
  "retired_at",
  "signs_until",
  "listed_until",
] as const;

/** A row without its private key. */
type PublicKeyRow = Omit<ApkSigningKeyRow, "private_key_pem">;

/** Maps a row (without its private key) to the domain type. */
function toApkRepositoryKey(row: PublicKeyRow): ApkRepositoryKey {
  return {
    name: row.name,
    orgId: row.org_id,
    publicKeyPem: row.public_key_pem,
    createdAt: new Date(row.created_at),
    ...(row.retired_at === null ? {} : { retiredAt: new Date(row.retired_at) }),
    ...(row.signs_until === null ? {} : { signsUntil: new Date(row.signs_until) }),
    ...(row.listed_until === null ? {} : { listedUntil: new Date(row.listed_until) }),
  };
}

/** Maps a full row, private key included, to a key the index signer may use. */
function toApkSigningKey(row: ApkSigningKeyRow): ApkSigningKey {
  return { ...toApkRepositoryKey(row), privateKeyPem: row.private_key_pem };
}

/**
 * The organization's keys still listed at `at`, without their private
 * halves: the current key first, then retired keys whose `listed_until` is
 * later than `at`, most recently retired first.
 */
export async function listApkPublicKeys(
  db: GatewayDb,
  orgId: string,
  at: Date,
): Promise<ApkRepositoryKey[]> {
  const rows = await db
    .selectFrom("apk_signing_keys")
    .select(PUBLIC_COLUMNS)
    .where("org_id", "=", orgId)
    .where((eb) => eb.or([eb("retired_at", "is", null), eb("listed_until", ">", at)]))
    .orderBy("retired_at", (ob) => ob.desc().nullsFirst())
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(toApkRepositoryKey);
}

/**
 * The organization's keys that sign its index at `at`, private halves
 * included: the current key first, then retired keys whose `signs_until` is
 * later than `at`. Only the index signer should call this.
 */
export async function listApkSigningKeys(
  db: GatewayDb,
  orgId: string,
  at: Date,
): Promise<ApkSigningKey[]> {
  const rows = await db
    .selectFrom("apk_signing_keys")
    .selectAll()
    .where("org_id", "=", orgId)
    .where((eb) => eb.or([eb("retired_at", "is", null), eb("signs_until", ">", at)]))
    .orderBy("retired_at", (ob) => ob.desc().nullsFirst())
    .orderBy("created_at", "desc")
    .execute();
  return rows.map(toApkSigningKey);
}

/** The organization's current key (its public facts), if it has one. */
export async function findCurrentApkSigningKey(
  db: GatewayDb,
  orgId: string,
): Promise<ApkRepositoryKey | undefined> {
  const row = await db
    .selectFrom("apk_signing_keys")
    .select(PUBLIC_COLUMNS)
    .where("org_id", "=", orgId)
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return row === undefined ? undefined : toApkRepositoryKey(row);
}

/** The new current key and how the key it replaces retires. */
export interface CurrentKeyChange {
  /** The key to make current (not yet stored). */
  readonly key: Pick<ApkSigningKey, "name" | "orgId" | "publicKeyPem" | "privateKeyPem">;
  readonly now: Date;
  /**
   * Name of the key the caller saw as current (null: none). When another
   * gateway changed the current key meanwhile, nothing is stored. Omit to
   * replace whatever is current.
   */
  readonly expectedCurrent?: string | null;
  /** Until when the replaced key keeps co-signing. */
  readonly retiredSignsUntil: Date;
  /** Until when the replaced key stays listed in the JWKS. */
  readonly retiredListedUntil: Date;
}

/** What {@link replaceCurrentApkSigningKey} did. */
export interface CurrentKeyOutcome {
  /** False when `expectedCurrent` no longer matched and nothing was stored. */
  readonly replaced: boolean;
  /** The current key after the call (its public facts). */
  readonly current: ApkRepositoryKey;
}

/**
 * Makes `change.key` the organization's current key: the current key (if
 * any) retires and co-signs until `retiredSignsUntil`; keys retired earlier
 * stop co-signing now (only the previous key overlaps) but stay listed until
 * their own `listed_until`. Gateways doing this at once take turns on an
 * advisory lock per organization, and the unique partial index on current
 * keys backs that up.
 */
export async function replaceCurrentApkSigningKey(
  db: Kysely<GatewayDatabase>,
  change: CurrentKeyChange,
): Promise<CurrentKeyOutcome> {
  const orgId = change.key.orgId;
  return db.transaction().execute(async (trx) => {
    await lockOrganizationKeys(trx, orgId);
    const current = await findCurrentApkSigningKey(trx, orgId);
    if (
      change.expectedCurrent !== undefined &&
      (current?.name ?? null) !== change.expectedCurrent
    ) {
      if (current !== undefined) return { replaced: false, current };
    }
    await trx
      .updateTable("apk_signing_keys")
      .set({ signs_until: sql<Date>`least(signs_until, ${change.now})` })
      .where("org_id", "=", orgId)
      .where("retired_at", "is not", null)
      .execute();
    if (current !== undefined) {
      await trx
        .updateTable("apk_signing_keys")
        .set({
          retired_at: change.now,
          signs_until: change.retiredSignsUntil,
          listed_until: change.retiredListedUntil,
        })
        .where("name", "=", current.name)
        .execute();
    }
    const row = await trx
      .insertInto("apk_signing_keys")
      .values({
        name: change.key.name,
        org_id: orgId,
        public_key_pem: change.key.publicKeyPem,
        private_key_pem: change.key.privateKeyPem,
        created_at: change.now,
      })
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirstOrThrow();
    return { replaced: true, current: toApkRepositoryKey(row) };
  });
}

// Serialises key creation and rotation of one organization across gateways.
async function lockOrganizationKeys(trx: Transaction<GatewayDatabase>, orgId: string) {
  const name = `tailor.gateway.apk_signing_keys:${orgId}`;
  await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
}
