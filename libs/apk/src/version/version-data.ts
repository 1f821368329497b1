/**
 * A runner for apk-tools' version test vectors (test/unit/version.data), with
 * the semantics of apk-tools' own unit test that reads that file.
 */
import { isValidVersion, matchesMask, operatorMask, versionRelation } from "./version.js";

/** One vector that did not hold. */
export interface VersionDataFailure {
  /** 1-based line number in the input. */
  line: number;
  /** The vector as tested: the line without its comment and trailing blanks. */
  text: string;
  /** What the line asserts: its operator (e.g. `<`, `!~`), or `valid` / `invalid`. */
  expected: string;
  /** What apk's rules give: `<`, `=` or `>` (fuzzy for `~` operators), or `valid` / `invalid`. */
  actual: string;
}

/** The outcome of {@link runVersionData}: counts of vectors, and each failure. */
export interface VersionDataResult {
  passed: number;
  failed: number;
  failures: VersionDataFailure[];
}

/**
 * Runs every vector of a file in version.data format and reports which hold.
 *
 * Each line is cut at its first `#` and stripped of trailing blanks; lines left
 * empty are not vectors. A line with two spaces is `A op B`: it holds when
 * `A op B` matches under apk's rules, and an op written `!op` inverts that. Any
 * other line is a version that must be valid, or with a leading `!`, invalid.
 * Operators are read as apk reads them (`<`, `>`, `=`, `~` combined), so an
 * unknown operator never holds.
 */
export function runVersionData(text: string): VersionDataResult {
  const result: VersionDataResult = { passed: 0, failed: 0, failures: [] };
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const vector = withoutComment(raw);
    if (vector === "") continue;
    const outcome = check(vector);
    if (outcome.holds) {
      result.passed++;
    } else {
      result.failed++;
      result.failures.push({
        line: index + 1,
        text: vector,
        expected: outcome.expected,
        actual: outcome.actual,
      });
    }
  }
  return result;
}

/** The line before its first `#`, without trailing white space (C's isspace set). */
function withoutComment(line: string): string {
  const hash = line.indexOf("#");
  const content = hash === -1 ? line : line.slice(0, hash);
  return content.replace(/[ \t\n\v\f\r]+$/, "");
}

interface Outcome {
  holds: boolean;
  expected: string;
  actual: string;
}

function check(vector: string): Outcome {
  // Only single spaces delimit: "A  < B" has an empty operator, which never holds.
  const firstSpace = vector.indexOf(" ");
  const secondSpace = firstSpace === -1 ? -1 : vector.indexOf(" ", firstSpace + 1);
  if (secondSpace !== -1) {
    const left = vector.slice(0, firstSpace);
    const written = vector.slice(firstSpace + 1, secondSpace);
    const right = vector.slice(secondSpace + 1);
    const inverted = written.startsWith("!");
    const symbols = inverted ? written.slice(1) : written;
    const mask = operatorMask(symbols);
    const matches = matchesMask(left, mask, right);
    const actual =
      mask === 0
        ? `unknown operator ${JSON.stringify(symbols)}`
        : versionRelation(left, right, symbols.includes("~"));
    return { holds: matches !== inverted, expected: written, actual };
  }
  const inverted = vector.startsWith("!");
  const version = inverted ? vector.slice(1) : vector;
  const valid = isValidVersion(version);
  return {
    holds: valid !== inverted,
    expected: inverted ? "invalid" : "valid",
    actual: valid ? "valid" : "invalid",
  };
}
