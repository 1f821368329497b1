import type { Migration } from "@tailor/db";
import { createRepositoriesAndPackages } from "./2026-11-27T2330-create-repositories-and-packages.js";
import { createImages } from "./2026-11-27T2331-create-images.js";
import { singleEventOutbox } from "./2026-11-28T0005-single-event-outbox.js";

/**
 * Migrations of the `catalog` schema, applied in name order at start. Names
 * are timestamps (`YYYY-MM-DDTHHMM-what`) so they sort in creation order;
 * never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-27T2330-create-repositories-and-packages": createRepositoriesAndPackages,
  "2026-11-27T2331-create-images": createImages,
  "2026-11-28T0005-single-event-outbox": singleEventOutbox,
};
