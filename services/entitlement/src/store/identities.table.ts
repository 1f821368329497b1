import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.identities`. */
export interface IdentitiesTable {
  id: string;
  /** Null for a platform administrator. */
  org_id: string | null;
  name: string;
  /** viewer | editor | owner; null for a platform administrator. */
  role: string | null;
  administrator: ColumnType<boolean, boolean | undefined, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
  deleted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A stored identity row. */
export type IdentityRow = Selectable<IdentitiesTable>;
