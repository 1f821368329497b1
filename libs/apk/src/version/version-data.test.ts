import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { runVersionData } from "./version-data.js";

describeWithFixtures("apk-tools test/unit/version.data", (fixturesDir) => {
  it("holds for every upstream vector", () => {
    const text = readFileSync(join(fixturesDir, "apk-tools/test/unit/version.data"), "utf8");
    const result = runVersionData(text);
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    // Every non-blank line of the file is a vector.
    const vectors = text.split("\n").filter((line) => line.trim() !== "").length;
    expect(result.passed).toBe(vectors);
  });
});

describe("runVersionData", () => {
  it("checks comparisons, inverted comparisons and validity lines", () => {
    const result = runVersionData(
      [
        "1.0 < 1.1",
        "1.1 > 1.0",
        "1.0 = 1.0",
        "1.0 <= 1.0",
        "1.1 >= 1.0",
        "3.6.9 ~ 3.6",
        "3.5 <~ 3.6",
        "3.7 >~ 3.6",
        "3.8.0.1 !~ 3.8.1",
        "1.0 != 1.1",
        "1.0 >< 1.1",
        "1.2.3",
        "!1.2.3_foo",
        "!",
      ].join("\n"),
    );
    expect(result).toEqual({ passed: 14, failed: 0, failures: [] });
  });

  it("skips blank lines and comments, and ignores text after #", () => {
    const result = runVersionData("# header\n\n1.0 < 1.0bc\t\t# invalid. do string sort\n   \n");
    expect(result).toEqual({ passed: 1, failed: 0, failures: [] });
  });

  it("reports each failing vector with its line, what it asserts and what apk gives", () => {
    const result = runVersionData(
      "1.0 < 1.1\n\n1.1 < 1.0\n3.6 ~ 3.6.0\n1.0_foo\n!1.0\n1.0 ?? 1.0\n",
    );
    expect(result.passed).toBe(1);
    expect(result.failed).toBe(5);
    expect(result.failures).toEqual([
      { line: 3, text: "1.1 < 1.0", expected: "<", actual: ">" },
      { line: 4, text: "3.6 ~ 3.6.0", expected: "~", actual: "<" },
      { line: 5, text: "1.0_foo", expected: "valid", actual: "invalid" },
      { line: 6, text: "!1.0", expected: "invalid", actual: "valid" },
      { line: 7, text: "1.0 ?? 1.0", expected: "??", actual: 'unknown operator "??"' },
    ]);
  });

  it("reads a line with a single space as a version, which is then invalid", () => {
    const result = runVersionData("1.0 <");
    expect(result.failures).toEqual([
      { line: 1, text: "1.0 <", expected: "valid", actual: "invalid" },
    ]);
  });

  it("handles CRLF line endings", () => {
    expect(runVersionData("1.0 < 1.1\r\n1.2\r\n")).toEqual({ passed: 2, failed: 0, failures: [] });
  });
});
