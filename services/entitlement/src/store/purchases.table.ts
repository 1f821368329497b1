import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.purchases`: a source image an organization bought. */
export interface PurchasesTable {
  org_id: string;
  source_image: string;
  purchased_at: ColumnType<Date, Date | undefined, never>;
}

/** A stored purchase row. */
export type PurchaseRow = Selectable<PurchasesTable>;

/** Row shape of `entitlement.package_grants`: a package an organization may use beyond its purchases. */
export interface PackageGrantsTable {
  org_id: string;
  package_name: string;
  reason: ColumnType<string, string | undefined, string>;
  granted_at: ColumnType<Date, Date | undefined, never>;
}

/** A stored package grant row. */
export type PackageGrantRow = Selectable<PackageGrantsTable>;
