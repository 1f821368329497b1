import type { PackageGrant, Purchase } from "../purchases/purchase.js";
import type { EntitlementDb } from "./entitlement-database.js";
import type { PackageGrantRow, PurchaseRow } from "./purchases.table.js";

/** Maps a purchase row to the domain type. */
function toPurchase(row: PurchaseRow): Purchase {
  return {
    orgId: row.org_id,
    sourceImage: row.source_image,
    purchasedAt: new Date(row.purchased_at),
  };
}

/** Maps a grant row to the domain type. */
function toPackageGrant(row: PackageGrantRow): PackageGrant {
  return {
    orgId: row.org_id,
    packageName: row.package_name,
    reason: row.reason,
    grantedAt: new Date(row.granted_at),
  };
}

/** Records a purchase; an existing one is returned unchanged (its original date kept). */
export async function addPurchase(
  db: EntitlementDb,
  purchase: { orgId: string; sourceImage: string; purchasedAt: Date },
): Promise<Purchase> {
  await db
    .insertInto("purchases")
    .values({
      org_id: purchase.orgId,
      source_image: purchase.sourceImage,
      purchased_at: purchase.purchasedAt,
    })
    .onConflict((oc) => oc.columns(["org_id", "source_image"]).doNothing())
    .execute();
  const row = await db
    .selectFrom("purchases")
    .selectAll()
    .where("org_id", "=", purchase.orgId)
    .where("source_image", "=", purchase.sourceImage)
    .executeTakeFirstOrThrow();
  return toPurchase(row);
}

/** Ends a purchase; false when there was none. */
export async function removePurchase(
  db: EntitlementDb,
  orgId: string,
  sourceImage: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("purchases")
    .where("org_id", "=", orgId)
    .where("source_image", "=", sourceImage)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Grants a package; an existing grant is returned unchanged (reason and date kept). */
export async function addPackageGrant(
  db: EntitlementDb,
  grant: { orgId: string; packageName: string; reason: string; grantedAt: Date },
): Promise<PackageGrant> {
  await db
    .insertInto("package_grants")
    .values({
      org_id: grant.orgId,
      package_name: grant.packageName,
      reason: grant.reason,
      granted_at: grant.grantedAt,
    })
    .onConflict((oc) => oc.columns(["org_id", "package_name"]).doNothing())
    .execute();
  const row = await db
    .selectFrom("package_grants")
    .selectAll()
    .where("org_id", "=", grant.orgId)
    .where("package_name", "=", grant.packageName)
    .executeTakeFirstOrThrow();
  return toPackageGrant(row);
}

/** Removes a package grant; false when there was none. */
export async function removePackageGrant(
  db: EntitlementDb,
  orgId: string,
  packageName: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("package_grants")
    .where("org_id", "=", orgId)
    .where("package_name", "=", packageName)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** An organization's purchases (by source image) and grants (by package name). */
export async function listEntitlements(
  db: EntitlementDb,
  orgId: string,
): Promise<{ purchases: Purchase[]; packageGrants: PackageGrant[] }> {
  const purchases = await db
    .selectFrom("purchases")
    .selectAll()
    .where("org_id", "=", orgId)
    .orderBy("source_image")
    .execute();
  const grants = await db
    .selectFrom("package_grants")
    .selectAll()
    .where("org_id", "=", orgId)
    .orderBy("package_name")
    .execute();
  return { purchases: purchases.map(toPurchase), packageGrants: grants.map(toPackageGrant) };
}
