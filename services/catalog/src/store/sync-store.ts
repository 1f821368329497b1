import type { Kysely, Transaction } from "@tailor/db";
import type { RepositorySync } from "../sync/repository-sync.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { RepositorySyncRow } from "./package-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** Maps a row to the domain type (the one place column names meet field names). */
function toSync(row: RepositorySyncRow): RepositorySync {
  return {
    id: row.id,
    repository: row.repository,
    trigger: row.trigger,
    status: row.status,
    error: row.error,
    arches: row.arches.map((arch) => ({ ...arch })),
    startedAt: new Date(row.started_at),
    finishedAt: new Date(row.finished_at),
  };
}

/** Records a finished sync. */
export async function insertSync(db: Db, sync: RepositorySync): Promise<void> {
  await db
    .insertInto("repository_syncs")
    .values({
      id: sync.id,
      repository: sync.repository,
      trigger: sync.trigger,
      status: sync.status,
      error: sync.error,
      arches: JSON.stringify(sync.arches),
      started_at: sync.startedAt,
      finished_at: sync.finishedAt,
    })
    .execute();
}

/** Replaces the error note of a recorded sync (what mirroring could not fetch). */
export async function setSyncError(db: Db, id: string, error: string): Promise<void> {
  await db.updateTable("repository_syncs").set({ error }).where("id", "=", id).execute();
}

/** A repository's syncs, newest first. */
export async function listSyncs(
  db: Db,
  repository: string,
  limit: number,
): Promise<RepositorySync[]> {
  const rows = await db
    .selectFrom("repository_syncs")
    .selectAll()
    .where("repository", "=", repository)
    .orderBy("started_at", "desc")
    .orderBy("finished_at", "desc")
    .limit(limit)
    .execute();
  return rows.map(toSync);
}
