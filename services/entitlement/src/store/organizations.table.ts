import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.organizations`. */
export interface OrganizationsTable {
  id: string;
  name: string;
  display_name: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** A stored organization row. */
export type OrganizationRow = Selectable<OrganizationsTable>;

/** Tables of the `entitlement` schema. */
export interface EntitlementDatabase {
  organizations: OrganizationsTable;
}
