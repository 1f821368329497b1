import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "vitest";

/**
 * Directory of the real-world fixtures (`shared/fixtures/real`) kept beside the
 * repository rather than in it, found by walking up from `from`; undefined when
 * absent. TAILOR_FIXTURES_DIR overrides the search.
 */
export function sharedFixturesDir(from: string = process.cwd()): string | undefined {
  const override = process.env.TAILOR_FIXTURES_DIR;
  if (override !== undefined && override !== "") {
    return isDirectory(override) ? resolve(override) : undefined;
  }
  let directory = resolve(from);
  for (;;) {
    const candidate = join(directory, "shared", "fixtures", "real");
    if (isDirectory(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * `describe` for suites that read the shared real-world fixtures: runs `fn`
 * with their directory, or skips the suite and says why on stderr (so a green
 * run without fixtures is visibly partial).
 */
export function describeWithFixtures(name: string, fn: (fixturesDir: string) => void): void {
  const fixturesDir = sharedFixturesDir();
  if (fixturesDir !== undefined) {
    describe(name, () => fn(fixturesDir));
    return;
  }
  const override = process.env.TAILOR_FIXTURES_DIR;
  const reason =
    override !== undefined && override !== ""
      ? `TAILOR_FIXTURES_DIR=${override} is not a directory`
      : "shared/fixtures/real not found next to the repository (set TAILOR_FIXTURES_DIR to point at it)";
  process.stderr.write(`skipping "${name}": ${reason}\n`);
  // skipIf keeps the suite visible in the report as skipped, with its reason in the name.
  describe.skipIf(true)(`${name} (skipped: ${reason})`, () => {
    it("needs the shared fixtures", () => {});
  });
}
