import { compareVersions, isValidVersion } from "@tailor/apk";
import { InvalidFieldError } from "../repositories/errors.js";

/** Where a rule comes from: an administrator's SetEndOfLife call or the policy file. */
export type EndOfLifeSource = "admin" | "policy";

/** Marks versions of a package stream (e.g. `python-3.10`) as no longer offered. */
export interface EndOfLifeRule {
  readonly packageName: string;
  /** Versions below this one are end-of-life; undefined means every version. */
  readonly beforeVersion: string | undefined;
  readonly reason: string;
  readonly source: EndOfLifeSource;
  readonly updatedAt: Date;
}

/** Rules by package name, as {@link isEndOfLife} reads them. */
export type EndOfLifeRules = ReadonlyMap<string, EndOfLifeRule>;

/** Indexes rules by package name. */
export function endOfLifeRulesByName(rules: Iterable<EndOfLifeRule>): EndOfLifeRules {
  return new Map([...rules].map((rule) => [rule.packageName, rule]));
}

/**
 * The rule that makes `name` at `version` end-of-life, if any: a rule for
 * the name without a version covers every version, one with
 * `beforeVersion` covers the versions below it in apk order.
 */
export function endOfLifeRuleFor(
  rules: EndOfLifeRules,
  name: string,
  version: string,
): EndOfLifeRule | undefined {
  const rule = rules.get(name);
  if (rule === undefined) return undefined;
  if (rule.beforeVersion === undefined) return rule;
  return compareVersions(version, rule.beforeVersion) < 0 ? rule : undefined;
}

/** True when an end-of-life rule covers `name` at `version` (it is not offered for new customizations). */
export function isEndOfLife(rules: EndOfLifeRules, name: string, version: string): boolean {
  return endOfLifeRuleFor(rules, name, version) !== undefined;
}

const PACKAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9+._-]{0,254}$/;

/** Checks a package name given to a rule. */
export function validateRulePackageName(name: string, field: string): string {
  const trimmed = name.trim();
  if (!PACKAGE_NAME.test(trimmed)) {
    throw new InvalidFieldError(
      field,
      `package name ${JSON.stringify(name)} is invalid: use letters, digits, "+", ".", "_" and "-", e.g. "python-3.10"`,
    );
  }
  return trimmed;
}

/** Checks an optional `before` version: empty, or a version apk accepts. */
export function validateRuleVersion(version: string, field: string): string | undefined {
  const trimmed = version.trim();
  if (trimmed === "") return undefined;
  if (!isValidVersion(trimmed)) {
    throw new InvalidFieldError(
      field,
      `version ${JSON.stringify(version)} is not a valid apk version (e.g. 3.10.14-r0)`,
    );
  }
  return trimmed;
}
