import { describe, expect, it } from "vitest";
import { EndOfLifePolicyError, parseEndOfLifePolicy } from "./end-of-life-policy.js";
import { endOfLifeRulesByName, isEndOfLife } from "./end-of-life-rule.js";

describe("end-of-life policy file", () => {
  it("reads rules with and without a version bound", () => {
    const rules = parseEndOfLifePolicy(
      "endOfLife:\n  - package: python-3.10\n    reason: upstream support ended\n  - package: nodejs-18\n    before: 18.20.4-r0\n",
      "policy.yaml",
    );
    expect(rules).toEqual([
      { packageName: "python-3.10", beforeVersion: undefined, reason: "upstream support ended" },
      { packageName: "nodejs-18", beforeVersion: "18.20.4-r0", reason: "" },
    ]);
    const byName = endOfLifeRulesByName(
      rules.map((rule) => ({ ...rule, source: "policy" as const, updatedAt: new Date(0) })),
    );
    expect(isEndOfLife(byName, "python-3.10", "3.10.14-r0")).toBe(true);
    expect(isEndOfLife(byName, "nodejs-18", "18.20.3-r0")).toBe(true);
    expect(isEndOfLife(byName, "nodejs-18", "18.20.4-r0")).toBe(false);
    expect(isEndOfLife(byName, "nodejs-20", "20.0-r0")).toBe(false);
  });

  it("accepts an empty file and refuses anything unclear, naming the entry", () => {
    expect(parseEndOfLifePolicy("", "p.yaml")).toEqual([]);
    expect(parseEndOfLifePolicy("endOfLife: []\n", "p.yaml")).toEqual([]);
    const problems: [string, string][] = [
      ["eol: []", 'unknown key "eol"'],
      ["endOfLife: python", '"endOfLife" must be a list'],
      ["endOfLife:\n  - before: 1-r0\n", 'endOfLife[0].package: package name "" is invalid'],
      [
        "endOfLife:\n  - package: a\n  - package: a\n",
        'endOfLife[1].package: package "a" is listed twice',
      ],
      ["endOfLife: [", "is not valid YAML"],
    ];
    for (const [text, message] of problems) {
      expect(() => parseEndOfLifePolicy(text, "p.yaml")).toThrow(EndOfLifePolicyError);
      expect(() => parseEndOfLifePolicy(text, "p.yaml")).toThrow(message);
    }
  });
});
