import { OrganizationNameTakenError } from "../organizations/errors.js";
import type { Organization } from "../organizations/organization.js";
import type { EntitlementDb } from "./entitlement-database.js";
import type { OrganizationRow } from "./organizations.table.js";
import { isUniqueViolation } from "./unique-violation.js";

/** Maps a row and its customizable images to the domain type (the one place column names meet field names). */
function toOrganization(row: OrganizationRow, sourceImages: readonly string[]): Organization {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    createdAt: new Date(row.created_at),
    customAssemblyEnabled: row.custom_assembly_enabled,
    customizableSourceImages: [...sourceImages].sort(),
    uniqueTags: row.unique_tags,
  };
}

async function withSourceImages(
  db: EntitlementDb,
  rows: readonly OrganizationRow[],
): Promise<Organization[]> {
  if (rows.length === 0) return [];
  const images = await db
    .selectFrom("customizable_source_images")
    .select(["org_id", "source_image"])
    .where(
      "org_id",
      "in",
      rows.map((row) => row.id),
    )
    .execute();
  const byOrg = new Map<string, string[]>();
  for (const image of images) {
    const list = byOrg.get(image.org_id) ?? [];
    list.push(image.source_image);
    byOrg.set(image.org_id, list);
  }
  return rows.map((row) => toOrganization(row, byOrg.get(row.id) ?? []));
}

/** Inserts an organization; throws OrganizationNameTakenError on a duplicate name. */
export async function insertOrganization(
  db: EntitlementDb,
  organization: { id: string; name: string; displayName: string; createdAt: Date },
): Promise<Organization> {
  try {
    const row = await db
      .insertInto("organizations")
      .values({
        id: organization.id,
        name: organization.name,
        display_name: organization.displayName,
        created_at: organization.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrganization(row, []);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new OrganizationNameTakenError(organization.name, { cause: error });
    throw error;
  }
}

/** Finds an organization by id. */
export async function findOrganization(
  db: EntitlementDb,
  id: string,
): Promise<Organization | undefined> {
  const row = await db
    .selectFrom("organizations")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row === undefined ? undefined : (await withSourceImages(db, [row]))[0];
}

/** Finds an organization by its unique name. */
export async function findOrganizationByName(
  db: EntitlementDb,
  name: string,
): Promise<Organization | undefined> {
  const row = await db
    .selectFrom("organizations")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined ? undefined : (await withSourceImages(db, [row]))[0];
}

/** Lists organizations by name, `limit` of them after the name `after` (exclusive). */
export async function listOrganizations(
  db: EntitlementDb,
  page: { after?: string; limit: number },
): Promise<Organization[]> {
  let query = db.selectFrom("organizations").selectAll().orderBy("name").limit(page.limit);
  if (page.after !== undefined) query = query.where("name", ">", page.after);
  return withSourceImages(db, await query.execute());
}

/**
 * Sets the custom assembly switch and replaces the list of customizable
 * source images; undefined when the organization does not exist. Run it in a
 * transaction so readers never see half a list.
 */
export async function updateCustomAssembly(
  db: EntitlementDb,
  orgId: string,
  settings: { enabled: boolean; sourceImages: readonly string[] },
): Promise<Organization | undefined> {
  const row = await db
    .updateTable("organizations")
    .set({ custom_assembly_enabled: settings.enabled })
    .where("id", "=", orgId)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) return undefined;
  await db.deleteFrom("customizable_source_images").where("org_id", "=", orgId).execute();
  if (settings.sourceImages.length > 0) {
    await db
      .insertInto("customizable_source_images")
      .values(settings.sourceImages.map((image) => ({ org_id: orgId, source_image: image })))
      .execute();
  }
  return toOrganization(row, settings.sourceImages);
}

/**
 * Sets the settings an organization controls itself; undefined when the
 * organization does not exist.
 */
export async function updateOrganizationSettings(
  db: EntitlementDb,
  orgId: string,
  settings: { uniqueTags: boolean },
): Promise<Organization | undefined> {
  const row = await db
    .updateTable("organizations")
    .set({ unique_tags: settings.uniqueTags })
    .where("id", "=", orgId)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : (await withSourceImages(db, [row]))[0];
}
