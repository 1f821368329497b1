// npm run conformance -w @tailor/solver: runs apk-tools' fresh-install solver
// scenarios (../shared/fixtures/real/apk-tools/test/solver) against the built
// solver and prints "N passed, M failed, K skipped", with each skip's reason
// and a diff of each failure. Exit code 1 when any scenario fails.
import fs from "node:fs";
import path from "node:path";
import { parseApkScenario, runApkScenario, scenarioSkipReason } from "../dist/apk-scenario.js";

function findFixtures() {
  const override = process.env.TAILOR_FIXTURES_DIR;
  if (override) return fs.existsSync(override) ? override : undefined;
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, "shared", "fixtures", "real");
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const fixtures = findFixtures();
if (fixtures === undefined) {
  process.stdout.write(
    "conformance skipped: shared/fixtures/real not found (set TAILOR_FIXTURES_DIR)\n",
  );
  process.exit(0);
}
const print = (line) => process.stdout.write(`${line}\n`);
const dir = path.join(fixtures, "apk-tools", "test", "solver");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".test"))
  .sort()) {
  const scenario = parseApkScenario(fs.readFileSync(path.join(dir, file), "utf8"));
  const reason = scenarioSkipReason(scenario);
  if (reason !== undefined) {
    if (scenario.installed === undefined) {
      skipped++;
      print(`skip ${file}: ${reason}`);
    }
    continue;
  }
  const actual = runApkScenario(scenario, (name) => fs.readFileSync(path.join(dir, name), "utf8"));
  if (actual === scenario.expect) {
    passed++;
  } else {
    failed++;
    print(`FAIL ${file}\n--- expected\n${scenario.expect}\n--- actual\n${actual}\n`);
  }
}
print(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
