import { readFile } from "node:fs/promises";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { parse as parseYaml } from "yaml";
import { InvalidFieldError } from "../repositories/errors.js";
import type { CatalogDatabase } from "../store/catalog-database.js";
import {
  deletePolicyRulesExcept,
  listEndOfLifeRules,
  upsertEndOfLifeRule,
} from "../store/end-of-life-store.js";
import { validateRulePackageName, validateRuleVersion } from "./end-of-life-rule.js";

/** The end-of-life policy file is unreadable or not in the documented format. */
export class EndOfLifePolicyError extends Error {
  override readonly name = "EndOfLifePolicyError";
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`end-of-life policy ${file}: ${detail}`, options);
  }
}

/** One rule of the policy file. */
export interface PolicyRule {
  readonly packageName: string;
  readonly beforeVersion: string | undefined;
  readonly reason: string;
}

const ENTRY_KEYS = new Set(["package", "before", "reason"]);

/**
 * Parses the policy file (see the README):
 *
 * ```yaml
 * endOfLife:
 *   - package: python-3.10
 *     before: 3.10.14-r0   # optional: only older versions are end-of-life
 *     reason: Python 3.10 is no longer maintained upstream
 * ```
 * @throws EndOfLifePolicyError naming the entry and field at fault.
 */
export function parseEndOfLifePolicy(text: string, file: string): PolicyRule[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new EndOfLifePolicyError(file, `is not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (document === null || document === undefined) return [];
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new EndOfLifePolicyError(file, 'must be a mapping with an "endOfLife" list');
  }
  const unknown = Object.keys(document).filter((key) => key !== "endOfLife");
  if (unknown.length > 0) {
    throw new EndOfLifePolicyError(
      file,
      `unknown key ${JSON.stringify(unknown[0])}: only "endOfLife" is read`,
    );
  }
  const list = (document as { endOfLife?: unknown }).endOfLife;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new EndOfLifePolicyError(file, '"endOfLife" must be a list');
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const where = `endOfLife[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new EndOfLifePolicyError(
        file,
        `${where} must be a mapping with "package", "before" and "reason"`,
      );
    }
    const fields = entry as Record<string, unknown>;
    const extra = Object.keys(fields).find((key) => !ENTRY_KEYS.has(key));
    if (extra !== undefined) {
      throw new EndOfLifePolicyError(
        file,
        `${where}: unknown key ${JSON.stringify(extra)} (use package, before, reason)`,
      );
    }
    const text = (key: string): string => {
      const value = fields[key];
      if (value === undefined || value === null) return "";
      if (typeof value === "string" || typeof value === "number") return String(value);
      throw new EndOfLifePolicyError(file, `${where}.${key} must be a string`);
    };
    try {
      const packageName = validateRulePackageName(text("package"), `${where}.package`);
      if (seen.has(packageName))
        throw new InvalidFieldError(`${where}.package`, `package "${packageName}" is listed twice`);
      seen.add(packageName);
      return {
        packageName,
        beforeVersion: validateRuleVersion(text("before"), `${where}.before`),
        reason: text("reason").trim(),
      };
    } catch (error) {
      if (error instanceof InvalidFieldError) {
        throw new EndOfLifePolicyError(file, `${error.field}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  });
}

/** What applying the policy changed. */
export interface PolicyApplied {
  /** Package names whose rule was added or changed. */
  readonly changed: string[];
  /** Package names whose policy rule was removed because the file no longer lists them. */
  readonly removed: string[];
}

/**
 * Makes the stored policy rules equal the file's: adds or updates the file's
 * rules (they replace an administrator's rule for the same package) and
 * removes policy rules the file no longer lists. Without a file, every
 * policy rule is removed. Safe when several replicas start at once.
 * @throws EndOfLifePolicyError when the file cannot be read or parsed.
 */
export async function applyEndOfLifePolicy(
  db: Kysely<CatalogDatabase>,
  file: string | undefined,
  now: Date,
  logger: Logger,
): Promise<PolicyApplied> {
  let rules: PolicyRule[] = [];
  if (file !== undefined && file !== "") {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new EndOfLifePolicyError(file, `cannot be read: ${(error as Error).message}`, {
        cause: error,
      });
    }
    rules = parseEndOfLifePolicy(text, file);
  }
  const applied = await db.transaction().execute(async (trx) => {
    const stored = new Map((await listEndOfLifeRules(trx)).map((rule) => [rule.packageName, rule]));
    const changed: string[] = [];
    for (const rule of rules) {
      const current = stored.get(rule.packageName);
      const same =
        current?.source === "policy" &&
        current.beforeVersion === rule.beforeVersion &&
        current.reason === rule.reason;
      if (same) continue;
      await upsertEndOfLifeRule(trx, { ...rule, source: "policy" }, now);
      changed.push(rule.packageName);
    }
    const removed = await deletePolicyRulesExcept(
      trx,
      rules.map((rule) => rule.packageName),
    );
    return { changed, removed };
  });
  if (applied.changed.length > 0 || applied.removed.length > 0) {
    logger.info(
      { file, changed: applied.changed, removed: applied.removed },
      "applied the end-of-life policy",
    );
  }
  return applied;
}
