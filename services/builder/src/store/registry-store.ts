import type { Kysely, Transaction } from "@tailor/db";
import type { Repository, StoredBlob, Tag, TagMove } from "../registry/stored-image.js";
import type { BuilderDatabase } from "./builder-database.js";

type Db = Kysely<BuilderDatabase> | Transaction<BuilderDatabase>;

/** Creates the repository unless it exists. */
export async function ensureRepository(db: Db, repository: Repository): Promise<void> {
  await db
    .insertInto("repositories")
    .values({
      name: repository.name,
      org_id: repository.orgId,
      custom_image: repository.customImage,
    })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .execute();
}

/** The repository with this name, if any. */
export async function findRepository(db: Db, name: string): Promise<Repository | undefined> {
  const row = await db
    .selectFrom("repositories")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { name: row.name, orgId: row.org_id, customImage: row.custom_image };
}

/** Records manifests and indexes a build stored (their bytes are in the blob store). */
export async function recordManifests(
  db: Db,
  repository: string,
  manifests: readonly StoredBlob[],
  buildId: string,
): Promise<void> {
  if (manifests.length === 0) return;
  await db
    .insertInto("manifests")
    .values(
      manifests.map((manifest) => ({
        repository,
        digest: manifest.digest,
        media_type: manifest.mediaType,
        size: manifest.size,
        build_id: buildId,
      })),
    )
    .onConflict((conflict) => conflict.columns(["repository", "digest"]).doNothing())
    .execute();
}

/** Records the blobs a repository's images reference (layers, configs, SBOMs, manifests). */
export async function recordRepositoryBlobs(
  db: Db,
  repository: string,
  blobs: readonly StoredBlob[],
): Promise<void> {
  const unique = [...new Map(blobs.map((blob) => [blob.digest, blob])).values()];
  for (let start = 0; start < unique.length; start += 500) {
    await db
      .insertInto("repository_blobs")
      .values(
        unique.slice(start, start + 500).map((blob) => ({
          repository,
          digest: blob.digest,
          media_type: blob.mediaType,
          size: blob.size,
        })),
      )
      .onConflict((conflict) => conflict.columns(["repository", "digest"]).doNothing())
      .execute();
  }
}

/**
 * Locks the repository's row until the transaction ends, so commits of one
 * repository run one after another. `FOR NO KEY UPDATE` does not conflict
 * with the key-share locks that inserts of manifests and blobs take.
 * @returns false when the repository does not exist.
 */
export async function lockRepository(
  trx: Transaction<BuilderDatabase>,
  name: string,
): Promise<boolean> {
  const row = await trx
    .selectFrom("repositories")
    .select("name")
    .where("name", "=", name)
    .forNoKeyUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Points each tag at its digest. A tag already there is not moved (and no
 * move recorded); a build moves a tag at most once (redeliveries are no-ops).
 * The repository is locked first ({@link lockRepository}): two builds of one
 * image committing at once see each other's tags, so only one records
 * creating a tag (the `tag_moves_created_once` index backs that up).
 * @returns the moves made.
 */
export async function moveTags(
  trx: Transaction<BuilderDatabase>,
  repository: string,
  tags: readonly { name: string; digest: string }[],
  buildId: string,
  now: Date,
): Promise<TagMove[]> {
  if (!(await lockRepository(trx, repository))) {
    throw new Error(`repository ${repository} does not exist; tags cannot move`);
  }
  const moves: TagMove[] = [];
  for (const tag of tags) {
    const current = await trx
      .selectFrom("tags")
      .select(["digest"])
      .where("repository", "=", repository)
      .where("name", "=", tag.name)
      .forUpdate()
      .executeTakeFirst();
    if (current?.digest === tag.digest) continue;
    const inserted = await trx
      .insertInto("tag_moves")
      .values({
        repository,
        tag: tag.name,
        from_digest: current?.digest ?? "",
        to_digest: tag.digest,
        build_id: buildId,
        moved_at: now,
      })
      .onConflict((conflict) => conflict.columns(["repository", "tag", "build_id"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (inserted === undefined) continue;
    await trx
      .insertInto("tags")
      .values({
        repository,
        name: tag.name,
        digest: tag.digest,
        build_id: buildId,
        updated_at: now,
      })
      .onConflict((conflict) =>
        conflict
          .columns(["repository", "name"])
          .doUpdateSet({ digest: tag.digest, build_id: buildId, updated_at: now }),
      )
      .execute();
    moves.push({
      tag: tag.name,
      fromDigest: current?.digest ?? "",
      toDigest: tag.digest,
      buildId,
      movedAt: now,
    });
  }
  return moves;
}

/** A manifest of the repository by digest. */
export async function findManifest(
  db: Db,
  repository: string,
  digest: string,
): Promise<StoredBlob | undefined> {
  const row = await db
    .selectFrom("manifests")
    .select(["digest", "media_type", "size"])
    .where("repository", "=", repository)
    .where("digest", "=", digest)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { digest: row.digest, mediaType: row.media_type, size: Number(row.size) };
}

/** One tag of the repository. */
export async function findTag(db: Db, repository: string, name: string): Promise<Tag | undefined> {
  const row = await db
    .selectFrom("tags")
    .selectAll()
    .where("repository", "=", repository)
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { name: row.name, digest: row.digest, buildId: row.build_id, updatedAt: row.updated_at };
}

/** The repository's tags by name. */
export async function listTags(db: Db, repository: string): Promise<Tag[]> {
  const rows = await db
    .selectFrom("tags")
    .selectAll()
    .where("repository", "=", repository)
    .orderBy("name")
    .execute();
  return rows.map((row) => ({
    name: row.name,
    digest: row.digest,
    buildId: row.build_id,
    updatedAt: row.updated_at,
  }));
}

/** Every move of one tag, newest first. */
export async function listTagMoves(db: Db, repository: string, tag: string): Promise<TagMove[]> {
  const rows = await db
    .selectFrom("tag_moves")
    .selectAll()
    .where("repository", "=", repository)
    .where("tag", "=", tag)
    .orderBy("id", "desc")
    .execute();
  return rows.map((row) => ({
    tag: row.tag,
    fromDigest: row.from_digest,
    toDigest: row.to_digest,
    buildId: row.build_id,
    movedAt: row.moved_at,
  }));
}

/** A blob the repository references, if it does. */
export async function findRepositoryBlob(
  db: Db,
  repository: string,
  digest: string,
): Promise<StoredBlob | undefined> {
  const row = await db
    .selectFrom("repository_blobs")
    .select(["digest", "media_type", "size"])
    .where("repository", "=", repository)
    .where("digest", "=", digest)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { digest: row.digest, mediaType: row.media_type, size: Number(row.size) };
}
