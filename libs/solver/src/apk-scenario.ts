/**
 * apk-tools' solver test scenarios (`test/solver/*.test`): parsing the
 * `@ARGS`/`@REPO`/`@EXPECT` blocks and running fresh-install ones through
 * {@link solve}. Pure: the caller reads the files.
 */
import { parseApkIndexText } from "@tailor/apk";
import { formatInstallOutput } from "./install-output.js";
import { solve } from "./solve.js";
import { createUniverse } from "./universe.js";
import type { UniversePackage } from "./universe-types.js";

/** One parsed scenario. */
export interface ApkScenario {
  readonly args: readonly string[];
  /** Repository files in order, with their tag (without `@`). */
  readonly repos: readonly { readonly file: string; readonly tag?: string }[];
  readonly installed: string | undefined;
  readonly world: readonly string[] | undefined;
  readonly arch: string | undefined;
  readonly expect: string;
}

/** Options apk accepts that change nothing for a fresh image build. */
const HARMLESS_FLAGS = new Set(["--no-network", "--root-tmpfs=yes", "--simulate", "-s"]);

/** Parses a `.test` file. */
export function parseApkScenario(text: string): ApkScenario {
  const args: string[] = [];
  const repos: { file: string; tag?: string }[] = [];
  let installed: string | undefined;
  let world: string[] | undefined;
  let arch: string | undefined;
  const expect: string[] = [];
  let inExpect = false;
  for (const line of text.split("\n")) {
    if (inExpect) {
      expect.push(line);
      continue;
    }
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === "@ARGS") args.push(...rest);
    else if (key === "@REPO" || key === "@CACHE") {
      const [first, second] = rest;
      if (first?.startsWith("@") && second !== undefined)
        repos.push({ file: second, tag: first.slice(1) });
      else if (first !== undefined) repos.push({ file: first });
    } else if (key === "@INSTALLED") installed = rest[0];
    else if (key === "@WORLD") world = rest;
    else if (key === "@ARCH") arch = rest[0];
    else if (key === "@EXPECT") inExpect = true;
  }
  while (expect.length > 0 && expect[expect.length - 1] === "") expect.pop();
  return { args, repos, installed, world, arch, expect: expect.join("\n") };
}

/** Why a scenario is not a fresh install this runner can check, or undefined when it is. */
export function scenarioSkipReason(scenario: ApkScenario): string | undefined {
  if (scenario.installed !== undefined) return "has @INSTALLED (not a fresh install)";
  const applet = scenario.args.find((a) => !a.startsWith("-"));
  if (applet !== "add") return `applet "${applet ?? ""}" does not add packages`;
  for (const flag of scenario.args) {
    if (!flag.startsWith("-")) continue;
    if (HARMLESS_FLAGS.has(flag) || flag === "--force-broken-world") continue;
    return `flag ${flag} has no meaning for building an image`;
  }
  return undefined;
}

/** Runs a fresh-install scenario: `readRepo` returns a repository file's text. */
export function runApkScenario(scenario: ApkScenario, readRepo: (file: string) => string): string {
  const packages: UniversePackage[] = [];
  for (const [index, repo] of scenario.repos.entries()) {
    const { entries } = parseApkIndexText(readRepo(repo.file), { file: repo.file });
    for (const entry of entries) {
      packages.push({
        name: entry.name,
        version: entry.version,
        arch: entry.arch ?? "",
        repository: `${index}:${repo.file}`,
        ...(repo.tag === undefined ? {} : { tag: repo.tag }),
        checksum: entry.checksum,
        size: entry.size,
        installedSize: entry.installedSize,
        depends: entry.depends,
        provides: entry.provides,
        installIf: entry.installIf,
        ...(entry.providerPriority === undefined
          ? {}
          : { providerPriority: entry.providerPriority }),
        repositoryPriority: index,
      });
    }
  }
  const afterAdd = scenario.args.slice(scenario.args.indexOf("add") + 1);
  const result = solve(createUniverse(packages), {
    world: [...(scenario.world ?? []), ...afterAdd.filter((a) => !a.startsWith("-"))],
    arch: scenario.arch ?? "x86_64",
    forceBrokenWorld: scenario.args.includes("--force-broken-world"),
  });
  return formatInstallOutput(result);
}
