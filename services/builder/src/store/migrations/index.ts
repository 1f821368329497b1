import type { Migration } from "@tailor/db";
import { createBuildsAndRegistry } from "./2026-11-28T0050-create-builds-and-registry.js";
import { tagMovesCreatedOnce } from "./2026-11-28T0105-tag-moves-created-once.js";

/**
 * Migrations of the `builder` schema, applied in name order at start. Names
 * are timestamps (`YYYY-MM-DDTHHMM-what`) so they sort in creation order;
 * never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-28T0050-create-builds-and-registry": createBuildsAndRegistry,
  "2026-11-28T0105-tag-moves-created-once": tagMovesCreatedOnce,
};
