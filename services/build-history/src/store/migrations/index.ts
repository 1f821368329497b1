import type { Migration } from "@tailor/db";

/**
 * Migrations of the `build_history` schema, applied in name order at start. Names
 * are timestamps (`YYYY-MM-DDTHHMM-what`) so they sort in creation order.
 * None yet: the service keeps no tables until its issue lands.
 */
export const migrations: Record<string, Migration> = {};
