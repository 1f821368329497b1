import type { Kysely, Transaction } from "@tailor/db";
import { OrganizationNameTakenError } from "../organizations/errors.js";
import type { Organization } from "../organizations/organization.js";
import type { EntitlementDatabase, OrganizationRow } from "./organizations.table.js";

type Db = Kysely<EntitlementDatabase> | Transaction<EntitlementDatabase>;

/** Maps a row to the domain type (the one place column names meet field names). */
function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    createdAt: new Date(row.created_at),
  };
}

/** Postgres' unique_violation, reported alike by pg and PGlite. */
function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505"
  );
}

/** Inserts an organization; throws OrganizationNameTakenError on a duplicate name. */
export async function insertOrganization(
  db: Db,
  organization: { id: string; name: string; displayName: string },
): Promise<Organization> {
  try {
    const row = await db
      .insertInto("organizations")
      .values({
        id: organization.id,
        name: organization.name,
        display_name: organization.displayName,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrganization(row);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new OrganizationNameTakenError(organization.name, { cause: error });
    throw error;
  }
}

/** Finds an organization by id. */
export async function findOrganization(db: Db, id: string): Promise<Organization | undefined> {
  const row = await db
    .selectFrom("organizations")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row === undefined ? undefined : toOrganization(row);
}
