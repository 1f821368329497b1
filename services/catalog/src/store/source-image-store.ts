import type { Kysely, Transaction } from "@tailor/db";
import type { SourceImage, SourceImageDefinition } from "../source-images/source-image.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { SourceImageRow } from "./image-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** Maps a row to the domain type (the one place column names meet field names). */
function toSourceImage(row: SourceImageRow): SourceImage {
  return {
    name: row.name,
    mainPackage: row.main_package,
    definition: row.definition as SourceImageDefinition,
    yaml: row.yaml,
    generation: row.generation,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** Finds a source image by name. */
export async function findSourceImage(db: Db, name: string): Promise<SourceImage | undefined> {
  const row = await db
    .selectFrom("source_images")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined ? undefined : toSourceImage(row);
}

/** Every source image, by name. */
export async function listSourceImages(db: Db): Promise<SourceImage[]> {
  const rows = await db.selectFrom("source_images").selectAll().orderBy("name").execute();
  return rows.map(toSourceImage);
}

/** What {@link putSourceImageRow} stores. */
export interface SourceImageWrite {
  readonly name: string;
  readonly mainPackage: string;
  readonly definition: SourceImageDefinition;
  readonly yaml: string;
  readonly at: Date;
}

/**
 * Locks and returns the current generation of a source image inside `trx`,
 * creating nothing. Callers decide whether the new definition differs.
 */
export async function lockSourceImage(
  trx: Transaction<CatalogDatabase>,
  name: string,
): Promise<SourceImage | undefined> {
  const row = await trx
    .selectFrom("source_images")
    .selectAll()
    .where("name", "=", name)
    .forUpdate()
    .executeTakeFirst();
  return row === undefined ? undefined : toSourceImage(row);
}

/**
 * Stores generation 1 of a new source image, or returns undefined when a
 * concurrent writer created it first (the caller then locks and updates it).
 */
export async function insertSourceImage(
  trx: Transaction<CatalogDatabase>,
  image: SourceImageWrite,
): Promise<SourceImage | undefined> {
  const row = await trx
    .insertInto("source_images")
    .values({
      name: image.name,
      main_package: image.mainPackage,
      definition: JSON.stringify(image.definition),
      yaml: image.yaml,
      generation: 1,
      created_at: image.at,
      updated_at: image.at,
    })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toSourceImage(row);
}

/** Replaces a locked source image's definition as generation `generation`. */
export async function updateSourceImage(
  trx: Transaction<CatalogDatabase>,
  image: SourceImageWrite & { readonly generation: number },
): Promise<SourceImage> {
  const row = await trx
    .updateTable("source_images")
    .set({
      main_package: image.mainPackage,
      definition: JSON.stringify(image.definition),
      yaml: image.yaml,
      generation: image.generation,
      updated_at: image.at,
    })
    .where("name", "=", image.name)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSourceImage(row);
}
