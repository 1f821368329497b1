import type { Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import { RepositoryExistsError } from "../repositories/errors.js";
import type { NewRepository, Repository, TrustedKey } from "../repositories/repository.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { RepositoryRow } from "./package-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** Maps a row to the domain type (the one place column names meet field names). */
function toRepository(row: RepositoryRow): Repository {
  return {
    name: row.name,
    kind: row.kind,
    url: row.url,
    arches: row.arches,
    trustedKeys: row.trusted_keys.map((key) => ({ name: key.name, pem: key.pem })),
    mirror: row.mirror,
    tag: row.tag,
    createdAt: new Date(row.created_at),
    lastSyncedAt: row.last_synced_at === null ? undefined : new Date(row.last_synced_at),
  };
}

/** Postgres' unique_violation, reported alike by pg and PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505"
  );
}

/** Inserts a repository; throws RepositoryExistsError when the name is taken. */
export async function insertRepository(
  db: Db,
  repository: NewRepository,
  now: Date,
): Promise<Repository> {
  try {
    const row = await db
      .insertInto("repositories")
      .values({
        name: repository.name,
        kind: repository.kind,
        url: repository.url,
        arches: JSON.stringify(repository.arches),
        trusted_keys: JSON.stringify(repository.trustedKeys),
        mirror: repository.mirror,
        tag: repository.tag,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRepository(row);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new RepositoryExistsError(repository.name, { cause: error });
    throw error;
  }
}

/** Finds a repository by name. */
export async function findRepository(db: Db, name: string): Promise<Repository | undefined> {
  const row = await db
    .selectFrom("repositories")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined ? undefined : toRepository(row);
}

/** Every repository, by name. */
export async function listRepositories(db: Db): Promise<Repository[]> {
  const rows = await db.selectFrom("repositories").selectAll().orderBy("name").execute();
  return rows.map(toRepository);
}

/** Replaces a repository's arches, trusted keys and mirror flag; undefined when it does not exist. */
export async function updateRepositorySettings(
  db: Db,
  name: string,
  settings: { arches: readonly string[]; trustedKeys: readonly TrustedKey[]; mirror: boolean },
  now: Date,
): Promise<Repository | undefined> {
  const row = await db
    .updateTable("repositories")
    .set({
      arches: JSON.stringify(settings.arches),
      trusted_keys: JSON.stringify(settings.trustedKeys),
      mirror: settings.mirror,
      updated_at: now,
    })
    .where("name", "=", name)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toRepository(row);
}

/** Records a successful sync's time. */
export async function markRepositorySynced(db: Db, name: string, at: Date): Promise<void> {
  await db
    .updateTable("repositories")
    .set({ last_synced_at: at })
    .where("name", "=", name)
    .execute();
}

/** Number of packages per repository (repositories without packages are absent). */
export async function countPackagesByRepository(
  db: Db,
  names?: readonly string[],
): Promise<Map<string, number>> {
  let query = db
    .selectFrom("packages")
    .select(["repository", (eb) => eb.fn.countAll<string>().as("count")])
    .groupBy("repository");
  if (names !== undefined) {
    if (names.length === 0) return new Map();
    query = query.where("repository", "in", [...names]);
  }
  const rows = await query.execute();
  return new Map(rows.map((row) => [row.repository, Number(row.count)]));
}

/**
 * Takes the repository's sync lease for `owner` when nobody holds a live
 * one, and stamps the attempt time. Lease times use the database clock, so
 * replicas with skewed clocks agree on expiry.
 * @returns true when the lease is now `owner`'s.
 */
export async function acquireSyncLease(
  db: Db,
  name: string,
  owner: string,
  leaseMs: number,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable("repositories")
    .set({
      sync_lease_owner: owner,
      sync_lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`,
      last_sync_attempt_at: now,
    })
    .where("name", "=", name)
    .where((eb) =>
      eb.or([
        eb("sync_lease_expires_at", "is", null),
        eb("sync_lease_expires_at", "<", sql<Date>`now()`),
      ]),
    )
    .returning("name")
    .executeTakeFirst();
  return row !== undefined;
}

/** Extends `owner`'s lease; false when it was lost (expired and taken by another process). */
export async function renewSyncLease(
  db: Db,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const row = await db
    .updateTable("repositories")
    .set({ sync_lease_expires_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where("name", "=", name)
    .where("sync_lease_owner", "=", owner)
    .returning("name")
    .executeTakeFirst();
  return row !== undefined;
}

/** Gives `owner`'s lease back. */
export async function releaseSyncLease(db: Db, name: string, owner: string): Promise<void> {
  await db
    .updateTable("repositories")
    .set({ sync_lease_owner: null, sync_lease_expires_at: null })
    .where("name", "=", name)
    .where("sync_lease_owner", "=", owner)
    .execute();
}

/** Upstream repositories whose last sync attempt is older than `before` (or that were never synced), oldest first. */
export async function upstreamRepositoriesDue(db: Db, before: Date): Promise<string[]> {
  const rows = await db
    .selectFrom("repositories")
    .select("name")
    .where("kind", "=", "upstream")
    .where((eb) =>
      eb.or([eb("last_sync_attempt_at", "is", null), eb("last_sync_attempt_at", "<", before)]),
    )
    .orderBy(sql`last_sync_attempt_at nulls first`)
    .orderBy("name")
    .execute();
  return rows.map((row) => row.name);
}

/** The APKINDEX last applied for one arch of a repository. */
export interface AppliedIndex {
  readonly arch: string;
  readonly indexDigest: string;
  readonly signedBy: string;
  readonly description: string;
}

/** The last applied index of each arch. */
export async function findAppliedIndexes(
  db: Db,
  repository: string,
): Promise<Map<string, AppliedIndex>> {
  const rows = await db
    .selectFrom("repository_indexes")
    .selectAll()
    .where("repository", "=", repository)
    .execute();
  return new Map(
    rows.map((row) => [
      row.arch,
      {
        arch: row.arch,
        indexDigest: row.index_digest,
        signedBy: row.signed_by,
        description: row.description,
      },
    ]),
  );
}

/** Records the index applied for one arch. */
export async function saveAppliedIndex(
  db: Db,
  repository: string,
  index: AppliedIndex,
  at: Date,
): Promise<void> {
  await db
    .insertInto("repository_indexes")
    .values({
      repository,
      arch: index.arch,
      index_digest: index.indexDigest,
      signed_by: index.signedBy,
      description: index.description,
      applied_at: at,
    })
    .onConflict((oc) =>
      oc.columns(["repository", "arch"]).doUpdateSet({
        index_digest: index.indexDigest,
        signed_by: index.signedBy,
        description: index.description,
        applied_at: at,
      }),
    )
    .execute();
}

/**
 * Forgets the applied indexes (all, or those of `arches`), so the next sync
 * downloads and verifies again instead of trusting an unchanged digest.
 */
export async function forgetAppliedIndexes(
  db: Db,
  repository: string,
  arches?: readonly string[],
): Promise<void> {
  let query = db.deleteFrom("repository_indexes").where("repository", "=", repository);
  if (arches !== undefined) {
    if (arches.length === 0) return;
    query = query.where("arch", "in", [...arches]);
  }
  await query.execute();
}
