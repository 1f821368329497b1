// apk-tools' fresh-install solver scenarios: every `*.test` under
// apk-tools/test/solver whose @ARGS add packages and that has no @INSTALLED
// must print exactly its @EXPECT block.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { expect, it } from "vitest";
import { parseApkScenario, runApkScenario, scenarioSkipReason } from "../src/apk-scenario.js";

describeWithFixtures("apk-tools solver conformance", (fixtures) => {
  const dir = join(fixtures, "apk-tools", "test", "solver");
  const files = readdirSync(dir)
    .filter((file) => file.endsWith(".test"))
    .sort();
  const fresh = files
    .map((file) => ({ file, scenario: parseApkScenario(readFileSync(join(dir, file), "utf8")) }))
    .filter(({ scenario }) => scenario.installed === undefined);

  it("finds the fresh-install scenarios", () => {
    expect(fresh.length).toBeGreaterThanOrEqual(44);
  });

  for (const { file, scenario } of fresh) {
    const reason = scenarioSkipReason(scenario);
    it.skipIf(reason !== undefined)(`${file}${reason === undefined ? "" : ` (${reason})`}`, () => {
      const actual = runApkScenario(scenario, (name) => readFileSync(join(dir, name), "utf8"));
      expect(actual).toBe(scenario.expect);
    });
  }
});
