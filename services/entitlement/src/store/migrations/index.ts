import type { Migration } from "@tailor/db";
import { createOrganizations } from "./2026-11-27T2100-create-organizations.js";

/**
 * Migrations of the `entitlement` schema, applied in name order at start.
 * Names are timestamps so they sort in creation order; never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-27T2100-create-organizations": createOrganizations,
};
