import type { Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import type { CatalogPackage, PackageKey } from "../packages/package.js";
import { providedName } from "../packages/package.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { PackageRow } from "./package-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** Rows per multi-row insert: 24 columns each stays far below Postgres' 65,535 parameters. */
const INSERT_BATCH = 500;

/** Maps a row to the domain type (the one place column names meet field names). */
function toPackage(row: PackageRow): CatalogPackage {
  return {
    repository: row.repository,
    arch: row.arch,
    name: row.name,
    version: row.version,
    checksum: row.checksum,
    size: Number(row.size),
    installedSize: Number(row.installed_size),
    description: row.description,
    url: row.url,
    license: row.license,
    origin: row.origin,
    maintainer: row.maintainer,
    buildTime: row.build_time === null ? undefined : Number(row.build_time),
    commit: row.commit,
    providerPriority: row.provider_priority ?? undefined,
    depends: row.depends,
    provides: row.provides,
    installIf: row.install_if,
    blobDigest: row.blob_digest ?? undefined,
    via: row.via,
  };
}

/** A stored package's identity within one repository arch, as a sync compares it. */
export interface StoredPackageKey {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly checksum: string;
}

/** Inserts packages in batches. */
export async function insertPackages(
  db: Db,
  packages: readonly CatalogPackage[],
  addedAt: Date,
): Promise<void> {
  for (let start = 0; start < packages.length; start += INSERT_BATCH) {
    const batch = packages.slice(start, start + INSERT_BATCH);
    await db
      .insertInto("packages")
      .values(
        batch.map((pkg) => ({
          repository: pkg.repository,
          arch: pkg.arch,
          name: pkg.name,
          version: pkg.version,
          checksum: pkg.checksum,
          size: pkg.size,
          installed_size: pkg.installedSize,
          description: pkg.description,
          url: pkg.url,
          license: pkg.license,
          origin: pkg.origin,
          maintainer: pkg.maintainer,
          build_time: pkg.buildTime ?? null,
          commit: pkg.commit,
          provider_priority: pkg.providerPriority ?? null,
          depends: JSON.stringify(pkg.depends),
          provides: JSON.stringify(pkg.provides),
          install_if: JSON.stringify(pkg.installIf),
          provided_names: JSON.stringify([...new Set(pkg.provides.map(providedName))]),
          blob_digest: pkg.blobDigest ?? null,
          via: pkg.via,
          added_at: addedAt,
        })),
      )
      .execute();
  }
}

/** Identities of the packages stored for one repository arch. */
export async function storedPackageKeys(
  db: Db,
  repository: string,
  arch: string,
): Promise<StoredPackageKey[]> {
  return db
    .selectFrom("packages")
    .select(["id", "name", "version", "checksum"])
    .where("repository", "=", repository)
    .where("arch", "=", arch)
    .execute();
}

/** Deletes packages by id, in batches. */
export async function deletePackagesById(db: Db, ids: readonly string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += INSERT_BATCH) {
    await db
      .deleteFrom("packages")
      .where("id", "in", ids.slice(start, start + INSERT_BATCH))
      .execute();
  }
}

/** Deletes every package a repository lists under the given arches. */
export async function deletePackagesOfArches(
  db: Db,
  repository: string,
  arches: readonly string[],
): Promise<void> {
  if (arches.length === 0) return;
  await db
    .deleteFrom("packages")
    .where("repository", "=", repository)
    .where("arch", "in", [...arches])
    .execute();
}

/** Number of packages of one repository arch. */
export async function countPackages(db: Db, repository: string, arch: string): Promise<number> {
  const row = await db
    .selectFrom("packages")
    .select((eb) => eb.fn.countAll<string>().as("count"))
    .where("repository", "=", repository)
    .where("arch", "=", arch)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Finds one package version. */
export async function findPackage(db: Db, key: PackageKey): Promise<CatalogPackage | undefined> {
  const row = await db
    .selectFrom("packages")
    .selectAll()
    .where("repository", "=", key.repository)
    .where("arch", "=", key.arch)
    .where("name", "=", key.name)
    .where("version", "=", key.version)
    .executeTakeFirst();
  return row === undefined ? undefined : toPackage(row);
}

/**
 * Records where a package's bytes are in the blob store. The checksum is part
 * of the match: if a sync replaced the version with a rebuild meanwhile, the
 * bytes of the old build are not attached to the new one.
 */
export async function setPackageBlob(
  db: Db,
  pkg: PackageKey & { readonly checksum: string },
  blobDigest: string,
): Promise<void> {
  await db
    .updateTable("packages")
    .set({ blob_digest: blobDigest })
    .where("repository", "=", pkg.repository)
    .where("arch", "=", pkg.arch)
    .where("name", "=", pkg.name)
    .where("version", "=", pkg.version)
    .where("checksum", "=", pkg.checksum)
    .execute();
}

/** Packages of a repository whose bytes are not in the blob store yet (for mirroring). */
export async function packagesWithoutBlob(db: Db, repository: string): Promise<CatalogPackage[]> {
  const rows = await db
    .selectFrom("packages")
    .selectAll()
    .where("repository", "=", repository)
    .where("blob_digest", "is", null)
    .orderBy("id")
    .execute();
  return rows.map(toPackage);
}

/** Filters of {@link findPackages}; each one given narrows the result. */
export interface PackageFilter {
  readonly name?: string | undefined;
  readonly prefix?: string | undefined;
  /** Words that must each appear in the name or the description (case-insensitive). */
  readonly words?: readonly string[] | undefined;
  readonly arch?: string | undefined;
  readonly repository?: string | undefined;
}

/** `%` and `_` match literally in a LIKE pattern once escaped (Postgres' default escape is `\`). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Every package version matching the filter, in no particular order. */
export async function findPackages(db: Db, filter: PackageFilter): Promise<CatalogPackage[]> {
  let query = db.selectFrom("packages").selectAll();
  if (filter.name !== undefined) query = query.where("name", "=", filter.name);
  if (filter.prefix !== undefined)
    query = query.where("name", "like", `${escapeLike(filter.prefix)}%`);
  for (const word of filter.words ?? []) {
    const pattern = `%${escapeLike(word)}%`;
    query = query.where((eb) =>
      eb.or([eb("name", "ilike", pattern), eb("description", "ilike", pattern)]),
    );
  }
  if (filter.arch !== undefined) query = query.where("arch", "=", filter.arch);
  if (filter.repository !== undefined) query = query.where("repository", "=", filter.repository);
  const rows = await query.execute();
  return rows.map(toPackage);
}

/** Packages named `name` or providing it (`so:libssl.so.3`, `cmd:python3`), optionally of one arch. */
export async function findProviderPackages(
  db: Db,
  name: string,
  arch?: string,
): Promise<CatalogPackage[]> {
  let query = db
    .selectFrom("packages")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("name", "=", name),
        sql<boolean>`provided_names @> ${JSON.stringify([name])}::jsonb`,
      ]),
    );
  if (arch !== undefined) query = query.where("arch", "=", arch);
  const rows = await query.execute();
  return rows.map(toPackage);
}

/** One batch of a repository arch's packages after id `afterId`, in id order (keyset paging). */
export async function packagePage(
  db: Db,
  repository: string,
  arch: string,
  afterId: string,
  limit: number,
): Promise<{ packages: CatalogPackage[]; lastId: string | undefined }> {
  const rows = await db
    .selectFrom("packages")
    .selectAll()
    .where("repository", "=", repository)
    .where("arch", "=", arch)
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return { packages: rows.map(toPackage), lastId: rows.at(-1)?.id };
}
