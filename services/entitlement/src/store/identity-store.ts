import type { Role } from "@tailor/auth";
import { isRole } from "@tailor/auth";
import { IdentityNameTakenError } from "../identities/errors.js";
import type { Identity } from "../identities/identity.js";
import type { EntitlementDb } from "./entitlement-database.js";
import type { IdentityRow } from "./identities.table.js";
import { isUniqueViolation } from "./unique-violation.js";

/** Maps a row to the domain type. */
function toIdentity(row: IdentityRow): Identity {
  return {
    id: row.id,
    ...(row.org_id === null ? {} : { orgId: row.org_id }),
    name: row.name,
    ...(row.role !== null && isRole(row.role) ? { role: row.role } : {}),
    administrator: row.administrator,
    createdAt: new Date(row.created_at),
    ...(row.deleted_at === null ? {} : { deletedAt: new Date(row.deleted_at) }),
  };
}

/** Inserts a member of an organization; throws IdentityNameTakenError when a live member has the name. */
export async function insertMember(
  db: EntitlementDb,
  member: { id: string; orgId: string; name: string; role: Role; createdAt: Date },
): Promise<Identity> {
  try {
    const row = await db
      .insertInto("identities")
      .values({
        id: member.id,
        org_id: member.orgId,
        name: member.name,
        role: member.role,
        created_at: member.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toIdentity(row);
  } catch (error) {
    if (isUniqueViolation(error)) throw new IdentityNameTakenError(member.name, { cause: error });
    throw error;
  }
}

/**
 * The live platform administrator named `name`, created when missing
 * (callers hold an advisory lock, so replicas do not race).
 */
export async function ensureAdministrator(
  db: EntitlementDb,
  administrator: { id: string; name: string; createdAt: Date },
): Promise<{ identity: Identity; created: boolean }> {
  const existing = await db
    .selectFrom("identities")
    .selectAll()
    .where("administrator", "=", true)
    .where("name", "=", administrator.name)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (existing !== undefined) return { identity: toIdentity(existing), created: false };
  const row = await db
    .insertInto("identities")
    .values({
      id: administrator.id,
      org_id: null,
      name: administrator.name,
      role: null,
      administrator: true,
      created_at: administrator.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { identity: toIdentity(row), created: true };
}

/** Finds an identity by id, deleted ones included (see `deletedAt`). */
export async function findIdentity(db: EntitlementDb, id: string): Promise<Identity | undefined> {
  const row = await db.selectFrom("identities").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toIdentity(row);
}

/** The live identities of an organization, by name. */
export async function listMembers(db: EntitlementDb, orgId: string): Promise<Identity[]> {
  const rows = await db
    .selectFrom("identities")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("deleted_at", "is", null)
    .orderBy("name")
    .execute();
  return rows.map(toIdentity);
}

/** Changes a live member's role; undefined when no live member has the id. */
export async function updateMemberRole(
  db: EntitlementDb,
  id: string,
  role: Role,
): Promise<Identity | undefined> {
  const row = await db
    .updateTable("identities")
    .set({ role })
    .where("id", "=", id)
    .where("administrator", "=", false)
    .where("deleted_at", "is", null)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toIdentity(row);
}

/** Marks an identity deleted; false when it already was. */
export async function markIdentityDeleted(
  db: EntitlementDb,
  id: string,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable("identities")
    .set({ deleted_at: at })
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
