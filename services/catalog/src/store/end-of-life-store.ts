import type { Kysely, Transaction } from "@tailor/db";
import type {
  EndOfLifeRule,
  EndOfLifeRules,
  EndOfLifeSource,
} from "../end-of-life/end-of-life-rule.js";
import { endOfLifeRulesByName } from "../end-of-life/end-of-life-rule.js";
import type { CatalogDatabase } from "./catalog-database.js";
import type { EndOfLifeRuleRow } from "./package-tables.js";

type Db = Kysely<CatalogDatabase> | Transaction<CatalogDatabase>;

/** Maps a row to the domain type (the one place column names meet field names). */
function toRule(row: EndOfLifeRuleRow): EndOfLifeRule {
  return {
    packageName: row.package_name,
    beforeVersion: row.before_version === "" ? undefined : row.before_version,
    reason: row.reason,
    source: row.source,
    updatedAt: new Date(row.updated_at),
  };
}

/** Every rule in force, by package name. */
export async function listEndOfLifeRules(db: Db): Promise<EndOfLifeRule[]> {
  const rows = await db
    .selectFrom("end_of_life_rules")
    .selectAll()
    .orderBy("package_name")
    .execute();
  return rows.map(toRule);
}

/** Every rule in force, indexed for `isEndOfLife` (the image half uses this too). */
export async function loadEndOfLifeRules(db: Db): Promise<EndOfLifeRules> {
  return endOfLifeRulesByName(await listEndOfLifeRules(db));
}

/** Adds or replaces the rule of a package name. */
export async function upsertEndOfLifeRule(
  db: Db,
  rule: {
    packageName: string;
    beforeVersion: string | undefined;
    reason: string;
    source: EndOfLifeSource;
  },
  at: Date,
): Promise<EndOfLifeRule> {
  const values = {
    before_version: rule.beforeVersion ?? "",
    reason: rule.reason,
    source: rule.source,
    updated_at: at,
  };
  const row = await db
    .insertInto("end_of_life_rules")
    .values({ package_name: rule.packageName, ...values })
    .onConflict((oc) => oc.column("package_name").doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRule(row);
}

/** Removes the rule of a package name; false when there was none. */
export async function deleteEndOfLifeRule(db: Db, packageName: string): Promise<boolean> {
  const rows = await db
    .deleteFrom("end_of_life_rules")
    .where("package_name", "=", packageName)
    .returning("package_name")
    .execute();
  return rows.length > 0;
}

/** Removes the policy file's rules whose package is no longer in it. */
export async function deletePolicyRulesExcept(db: Db, keep: readonly string[]): Promise<string[]> {
  let query = db.deleteFrom("end_of_life_rules").where("source", "=", "policy");
  if (keep.length > 0) query = query.where("package_name", "not in", [...keep]);
  const rows = await query.returning("package_name").execute();
  return rows.map((row) => row.package_name);
}
