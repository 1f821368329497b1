import type { Migration } from "@tailor/db";
import { createApkSigningKeys } from "./2026-11-28T0230-create-apk-signing-keys.js";

/**
 * Migrations of the `gateway` schema, applied in name order at start. Names
 * are timestamps (`YYYY-MM-DDTHHMM-what`) so they sort in creation order;
 * never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-28T0230-create-apk-signing-keys": createApkSigningKeys,
};
