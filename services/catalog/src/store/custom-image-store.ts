import type { Kysely, Transaction } from "@tailor/db";
import type { CustomImage, Overlay, RevisionAuthor } from "../custom-images/custom-image.js";
import {
  CustomImageExistsError,
  CustomImageNotFoundError,
  RevisionConflictError,
} from "../custom-images/errors.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { CustomImageRevisionRow } from "./image-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** A revision row joined with its image's source image and creation time. */
type RevisionWithImage = CustomImageRevisionRow & {
  source_image: string;
  image_created_at: Date;
};

/** Maps a row to the domain type (the one place column names meet field names). */
function toCustomImage(row: RevisionWithImage): CustomImage {
  return {
    orgId: row.org_id,
    name: row.name,
    sourceImage: row.source_image,
    revision: row.revision,
    overlay: row.overlay as Overlay,
    author: { name: row.author_name, subject: row.author_subject },
    comment: row.comment,
    createdAt: new Date(row.created_at),
    imageCreatedAt: new Date(row.image_created_at),
  };
}

function revisionsWithImage(db: Db) {
  return db
    .selectFrom("custom_image_revisions as r")
    .innerJoin("custom_images as i", (join) =>
      join.onRef("i.org_id", "=", "r.org_id").onRef("i.name", "=", "r.name"),
    )
    .selectAll("r")
    .select(["i.source_image", "i.created_at as image_created_at"]);
}

/** What a new revision carries. */
export interface RevisionWrite {
  readonly orgId: string;
  readonly name: string;
  readonly overlay: Overlay;
  readonly author: RevisionAuthor;
  readonly comment: string;
  readonly at: Date;
}

/**
 * Creates a custom image as revision 1.
 * @throws CustomImageExistsError when the organization already has one of that name.
 */
export async function insertCustomImage(
  trx: Transaction<CatalogDatabase>,
  image: RevisionWrite & { readonly sourceImage: string },
): Promise<CustomImage> {
  const inserted = await trx
    .insertInto("custom_images")
    .values({
      org_id: image.orgId,
      name: image.name,
      source_image: image.sourceImage,
      latest_revision: 1,
      created_at: image.at,
      updated_at: image.at,
    })
    .onConflict((conflict) => conflict.columns(["org_id", "name"]).doNothing())
    .returning("name")
    .executeTakeFirst();
  if (inserted === undefined) throw new CustomImageExistsError(image.orgId, image.name);
  return insertRevision(trx, image, 1, image.sourceImage, image.at);
}

/**
 * Appends the next revision atomically: the image row is locked by the
 * increment, so concurrent updates get consecutive numbers.
 * @throws CustomImageNotFoundError when the image does not exist.
 * @throws RevisionConflictError when `expectedRevision` (non-zero) is not the latest.
 */
export async function appendRevision(
  trx: Transaction<CatalogDatabase>,
  write: RevisionWrite & { readonly expectedRevision: number },
): Promise<CustomImage> {
  let update = trx
    .updateTable("custom_images")
    .set((eb) => ({ latest_revision: eb("latest_revision", "+", 1), updated_at: write.at }))
    .where("org_id", "=", write.orgId)
    .where("name", "=", write.name);
  if (write.expectedRevision !== 0) {
    update = update.where("latest_revision", "=", write.expectedRevision);
  }
  const row = await update
    .returning(["latest_revision", "source_image", "created_at"])
    .executeTakeFirst();
  if (row === undefined) {
    const current = await trx
      .selectFrom("custom_images")
      .select("latest_revision")
      .where("org_id", "=", write.orgId)
      .where("name", "=", write.name)
      .executeTakeFirst();
    if (current === undefined) throw new CustomImageNotFoundError(write.orgId, write.name);
    throw new RevisionConflictError(write.name, write.expectedRevision, current.latest_revision);
  }
  return insertRevision(
    trx,
    write,
    row.latest_revision,
    row.source_image,
    new Date(row.created_at),
  );
}

async function insertRevision(
  trx: Transaction<CatalogDatabase>,
  write: RevisionWrite,
  revision: number,
  sourceImage: string,
  imageCreatedAt: Date,
): Promise<CustomImage> {
  const row = await trx
    .insertInto("custom_image_revisions")
    .values({
      org_id: write.orgId,
      name: write.name,
      revision,
      overlay: JSON.stringify(write.overlay),
      author_name: write.author.name,
      author_subject: write.author.subject,
      comment: write.comment,
      created_at: write.at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toCustomImage({ ...row, source_image: sourceImage, image_created_at: imageCreatedAt });
}

/** True when the organization has a custom image of that name. */
export async function customImageExists(db: Db, orgId: string, name: string): Promise<boolean> {
  const row = await db
    .selectFrom("custom_images")
    .select("name")
    .where("org_id", "=", orgId)
    .where("name", "=", name)
    .executeTakeFirst();
  return row !== undefined;
}

/** The source image a custom image customizes, or undefined when there is no such image. */
export async function findCustomImageSource(
  db: Db,
  orgId: string,
  name: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("custom_images")
    .select("source_image")
    .where("org_id", "=", orgId)
    .where("name", "=", name)
    .executeTakeFirst();
  return row?.source_image;
}

/** A custom image at `revision`, or at its latest revision when `revision` is 0. */
export async function findCustomImage(
  db: Db,
  orgId: string,
  name: string,
  revision = 0,
): Promise<CustomImage | undefined> {
  let query = revisionsWithImage(db).where("r.org_id", "=", orgId).where("r.name", "=", name);
  query =
    revision === 0
      ? query.whereRef("r.revision", "=", "i.latest_revision")
      : query.where("r.revision", "=", revision);
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : toCustomImage(row);
}

/** The latest revision of each of an organization's custom images, by name. */
export async function listCustomImages(db: Db, orgId: string): Promise<CustomImage[]> {
  const rows = await revisionsWithImage(db)
    .where("r.org_id", "=", orgId)
    .whereRef("r.revision", "=", "i.latest_revision")
    .orderBy("r.name")
    .execute();
  return rows.map(toCustomImage);
}

/** Every revision of a custom image, newest first; empty when there is no such image. */
export async function listCustomImageRevisions(
  db: Db,
  orgId: string,
  name: string,
): Promise<CustomImage[]> {
  const rows = await revisionsWithImage(db)
    .where("r.org_id", "=", orgId)
    .where("r.name", "=", name)
    .orderBy("r.revision", "desc")
    .execute();
  return rows.map(toCustomImage);
}
