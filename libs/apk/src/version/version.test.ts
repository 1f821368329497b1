import { describe, expect, it } from "vitest";
import { VersionError } from "../errors.js";
import type { VersionOp } from "./version.js";
import {
  assertValidVersion,
  compareVersions,
  isValidVersion,
  matchesFuzzy,
  VERSION_OPS,
  versionProblem,
  versionRelation,
  versionSatisfies,
} from "./version.js";

/** Asserts that `chain` is strictly increasing under every pairing, both ways round. */
function expectAscending(chain: readonly string[]): void {
  for (const [i, older] of chain.entries()) {
    expect(compareVersions(older, older), `${older} = ${older}`).toBe(0);
    for (const newer of chain.slice(i + 1)) {
      expect(compareVersions(older, newer), `${older} < ${newer}`).toBe(-1);
      expect(compareVersions(newer, older), `${newer} > ${older}`).toBe(1);
    }
  }
}

describe("compareVersions", () => {
  it("orders numeric components by value, with more components newer", () => {
    expectAscending(["0.9", "0.10", "1", "1.0.1", "1.2", "1.2.0.1", "1.10", "2", "10", "20050405"]);
  });

  it("puts pre-release suffixes before the release and post-release ones after it", () => {
    expectAscending([
      "1.0_alpha",
      "1.0_alpha1",
      "1.0_alpha2",
      "1.0_beta",
      "1.0_pre1",
      "1.0_rc1",
      "1.0_rc1-r1",
      "1.0",
      "1.0-r1",
      "1.0-r10",
      "1.0_cvs",
      "1.0_svn",
      "1.0_git20240101",
      "1.0_hg",
      "1.0_p1",
      "1.0_p2",
      "1.0a",
      "1.0b",
      "1.0.1_alpha",
      "1.0.1",
    ]);
  });

  it("compares chained suffixes one by one", () => {
    expectAscending(["0.1.0_alpha_pre2", "0.1.0_alpha", "0.1.0_alpha_p1", "0.1.0_beta"]);
  });

  it("orders the letter after the digits", () => {
    expectAscending(["1.7", "1.7b", "1.7b-r1", "1.7c", "1.8"]);
  });

  it("orders commit hashes as text, and revisions after them", () => {
    expectAscending(["1.0~1234-r0", "1.0~1234-r1", "1.0~2345", "1.0~2345-r0", "1.0~abc"]);
    // A hash makes a version newer than the same version without one.
    expect(compareVersions("1.0~1234", "1.0")).toBe(1);
    expect(compareVersions("1.0~1234", "1.0-r5")).toBe(1);
  });

  it("ignores leading zeros in the first component but compares later ones as text", () => {
    expect(compareVersions("006", "6")).toBe(0);
    expect(compareVersions("013", "014-r1")).toBe(-1);
    expect(compareVersions("1.06-r6", "006")).toBe(-1);
    // 01 and 1 differ as text, so 1.01 is older than 1.1, and 1.010 older than 1.09.
    expectAscending(["1.001", "1.01", "1.010", "1.09", "1.1"]);
    expectAscending(["8.2.0", "8.2.001", "8.2.0015", "8.2.002"]);
  });

  it("reads numbers as apk's unsigned 64-bit integers", () => {
    expect(compareVersions("18446744073709551615", "18446744073709551614")).toBe(1);
    // 2^64 + 1 wraps around to 1, as it does in apk-tools.
    expect(compareVersions("18446744073709551617", "1")).toBe(0);
    expect(compareVersions("1.0_p20191002222144", "1.0_p20210530193627")).toBe(-1);
  });

  it("treats revisions numerically", () => {
    expectAscending(["2.18.3-r2", "2.18.3-r9", "2.18.3-r10", "2.18.3-r100"]);
  });

  it("sorts an array as apk would", () => {
    const sorted = ["1.0-r1", "1.0_rc1", "0.9", "1.0", "1.0.1", "1.0_p1"].sort(compareVersions);
    expect(sorted).toEqual(["0.9", "1.0_rc1", "1.0", "1.0-r1", "1.0_p1", "1.0.1"]);
  });

  it("does not throw on invalid versions: they compare equal up to the invalid part, which sorts lower", () => {
    expect(compareVersions("1.0", "1.0bc")).toBe(-1);
    expect(compareVersions("1.0bc", "1.0b")).toBe(-1);
    expect(compareVersions("1.0_foo", "1.0")).toBe(-1);
    expect(compareVersions("1.0_foo", "1.0-r1")).toBe(-1);
    // ...except below a pre-release suffix, which apk checks first.
    expect(compareVersions("1.0_foo", "1.0_alpha")).toBe(1);
    expect(compareVersions("2.0_foo", "1.0")).toBe(1);
    expect(compareVersions("abc", "xyz")).toBe(0);
    expect(compareVersions("", "")).toBe(0);
  });
});

describe("isValidVersion", () => {
  it.each([
    "1",
    "1.2",
    "0.1_pre2",
    "1.0a",
    "2.12r-r4",
    "1.0_alpha1_pre2",
    "0.1_git20240101_pre1",
    "0.1_pre2~1234abcd",
    "0.1_pre2~1234abcd-r3",
    "1.36.1-r2",
    "006",
  ])("accepts %s", (version) => {
    expect(isValidVersion(version)).toBe(true);
    expect(versionProblem(version)).toBeUndefined();
  });

  it.each([
    "",
    "a",
    ".1",
    "1.",
    "1..2",
    "0.1bc",
    "0.1a1",
    "0.1a.1",
    "0.1_",
    "0.1_foobar",
    "0.1_post1",
    "0.1_Alpha",
    "0.1__alpha",
    "0.1_1_alpha",
    "0.1_pre2~",
    "0.1_pre2~1234xbcd",
    "0.1~ABCD",
    "0.1~12~34",
    "0.1-r",
    "0.1-r2-r3",
    "0.1-r2.1",
    "0.1-r2_pre1",
    "0.1-pre1",
    "-r1",
    "1.0 ",
    "v1.0",
  ])("rejects %j", (version) => {
    expect(isValidVersion(version)).toBe(false);
  });
});

describe("assertValidVersion", () => {
  it("says what is wrong and where", () => {
    expect(() => assertValidVersion("0.1_foobar")).toThrow(
      /version "0.1_foobar" unknown suffix "_foobar" \(known: alpha, beta, pre, rc, cvs, svn, git, hg, p\) \(at offset 3\)/,
    );
    expect(() => assertValidVersion("1.2-3")).toThrow(
      /"-" may only start a revision "-rN" \(at offset 3\)/,
    );
    expect(() => assertValidVersion("1.0bc")).toThrow(
      /a letter may only follow a number \(at offset 4\)/,
    );
    expect(() => assertValidVersion("")).toThrow(/version "" is empty/);
  });

  it("throws a VersionError carrying the caller's location", () => {
    let thrown: unknown;
    try {
      assertValidVersion("x1", { file: "APKINDEX", field: "V:", line: 12 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VersionError);
    expect((thrown as VersionError).message).toBe(
      'APKINDEX, field V:, line 12: version "x1" must start with a digit (at offset 0)',
    );
  });

  it("accepts valid versions silently", () => {
    expect(() => assertValidVersion("3.0.15-r1")).not.toThrow();
  });
});

describe("matchesFuzzy", () => {
  it("matches versions that agree with the pattern in every part the pattern has", () => {
    expect(matchesFuzzy("3.6.0", "3.6")).toBe(true);
    expect(matchesFuzzy("3.6.9", "3.6")).toBe(true);
    expect(matchesFuzzy("3.6_pre1", "3.6")).toBe(true);
    expect(matchesFuzzy("3.6.9_post1", "3.6")).toBe(true);
    expect(matchesFuzzy("3.6.0", "3.6.0")).toBe(true);
    expect(matchesFuzzy("3.12.4-r1", "3.12")).toBe(true);
  });

  it("does not match by string prefix or when the pattern is longer", () => {
    expect(matchesFuzzy("3.8.0.1", "3.8.1")).toBe(false);
    expect(matchesFuzzy("3.60", "3.6")).toBe(false);
    expect(matchesFuzzy("3.6", "3.6.0")).toBe(false);
    expect(matchesFuzzy("3.6.0", "3.8")).toBe(false);
    expect(matchesFuzzy("3.6_pre1", "3.8")).toBe(false);
  });
});

describe("versionSatisfies", () => {
  // For 1.2 against 1.2, 1.3 and 1.1.
  const table: [VersionOp, boolean, boolean, boolean][] = [
    ["=", true, false, false],
    ["<", false, true, false],
    [">", false, false, true],
    ["<=", true, true, false],
    [">=", true, false, true],
    ["~", true, false, false],
    ["<~", true, true, false],
    [">~", true, false, true],
    ["><", false, true, true],
  ];
  it.each(table)("1.2 %s against 1.2, 1.3, 1.1", (op, same, older, newer) => {
    expect(versionSatisfies("1.2", op, "1.2")).toBe(same);
    expect(versionSatisfies("1.2", op, "1.3")).toBe(older);
    expect(versionSatisfies("1.2", op, "1.1")).toBe(newer);
  });

  it("covers every operator", () => {
    expect(table.map(([op]) => op).sort()).toEqual([...VERSION_OPS].sort());
  });

  it("applies fuzzy matching for ~, <~ and >~", () => {
    expect(versionSatisfies("3.6.9", "~", "3.6")).toBe(true);
    expect(versionSatisfies("3.6.9", "=", "3.6")).toBe(false);
    expect(versionSatisfies("3.5", "<~", "3.6")).toBe(true);
    expect(versionSatisfies("3.6.9", "<~", "3.6")).toBe(true);
    expect(versionSatisfies("3.7", "<~", "3.6")).toBe(false);
    expect(versionSatisfies("3.7", ">~", "3.6")).toBe(true);
    expect(versionSatisfies("3.6.1", ">~", "3.6")).toBe(true);
    expect(versionSatisfies("3.5.9", ">~", "3.6")).toBe(false);
  });

  it("compares revisions under = and >=", () => {
    expect(versionSatisfies("1.36.1-r2", "=", "1.36.1-r2")).toBe(true);
    expect(versionSatisfies("1.36.1-r2", "=", "1.36.1")).toBe(false);
    expect(versionSatisfies("1.36.1-r2", ">=", "1.36.1")).toBe(true);
  });

  it("rejects an operator apk does not have", () => {
    expect(() => versionSatisfies("1", "!=" as VersionOp, "2")).toThrow(VersionError);
    expect(() => versionSatisfies("1", "constructor" as VersionOp, "2")).toThrow(
      /unknown version operator "constructor"/,
    );
  });
});

describe("versionRelation", () => {
  it("reports the relation apk sees, fuzzy when asked", () => {
    expect(versionRelation("1.0", "1.0-r1")).toBe("<");
    expect(versionRelation("3.6.9", "3.6")).toBe(">");
    expect(versionRelation("3.6.9", "3.6", true)).toBe("=");
  });
});
