import type { Migration } from "@tailor/db";
import { createBuildsLogsAndTags } from "./2026-11-28T0145-create-builds-logs-and-tags.js";
import { logLinesRecordedAt } from "./2026-11-28T0248-log-lines-recorded-at.js";

/**
 * Migrations of the `build_history` schema, applied in name order at start. Names
 * are timestamps (`YYYY-MM-DDTHHMM-what`) so they sort in creation order;
 * never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-28T0145-create-builds-logs-and-tags": createBuildsLogsAndTags,
  "2026-11-28T0248-log-lines-recorded-at": logLinesRecordedAt,
};
