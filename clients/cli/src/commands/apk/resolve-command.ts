import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { IndexEntry, Keyring, SkippedIndexRecord } from "@tailor/apk";
import { parseApkIndexText, readApkIndexArchive } from "@tailor/apk";
import type { SolveProblem, SolveResult } from "@tailor/solver";
import { formatInstallOutput, MAX_REPOSITORIES, solve, universeFromIndexes } from "@tailor/solver";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { loadKeyring } from "./keyring-files.js";

/** Usage of `tailorctl apk resolve`. */
export const resolveUsage =
  "usage: tailorctl apk resolve --repo FILE [--repo @TAG FILE]... [--keys DIR] [--arch ARCH] [--no-backtrack] [--json] ATOM...";

/** The arch used when the indexes do not agree on one. @default "x86_64" */
const FALLBACK_ARCH = "x86_64";

/** One `--repo` as given: the index file and the tag its packages need (`name@tag`). */
interface RepositoryArgument {
  readonly file: string;
  readonly tag?: string;
}

/** A repository read from disk. */
interface LoadedRepository extends RepositoryArgument {
  /** Unique name in the universe: the file, with `#N` when the same file is given twice. */
  readonly name: string;
  readonly entries: readonly IndexEntry[];
  readonly skipped: readonly SkippedIndexRecord[];
}

/** What `--json` prints. */
interface ResolveJson {
  readonly ok: boolean;
  readonly arch: string;
  readonly world: readonly string[];
  readonly repositories: readonly {
    readonly name: string;
    readonly file: string;
    readonly tag?: string;
    readonly packages: number;
  }[];
  readonly packages?: readonly {
    readonly name: string;
    readonly version: string;
    readonly arch: string;
    readonly repository: string;
    readonly tag?: string;
    readonly checksum: string;
    readonly installedSize: number;
  }[];
  readonly installedSize?: number;
  readonly backtracked?: boolean;
  readonly problems?: readonly SolveProblem[];
  readonly warnings: readonly string[];
  /** Everything apk prints, warnings first: install lines and `OK:`, or the error report. */
  readonly text: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * `tailorctl apk resolve`: what `apk add ATOM...` would install from the given
 * indexes, printed as apk prints it (exit 0), or apk's error report (exit 1).
 * Repositories are preferred in the order given, as in apk's repositories file.
 */
export async function resolveCommand(args: string[], io: CommandIo): Promise<number> {
  const { repositories, world, options } = parseResolveArgs(args);
  const keyring = options.keys === undefined ? undefined : await loadKeyring(options.keys);
  const loaded: LoadedRepository[] = [];
  for (const repository of repositories) {
    loaded.push(await loadRepository(repository, keyring, loaded));
  }
  for (const repository of loaded) {
    for (const record of repository.skipped) {
      io.err(`WARNING: ${record.reason} (line ${record.line}); record skipped`);
    }
  }

  const arch = options.arch ?? defaultArch(loaded);
  const universe = universeFromIndexes(
    loaded.map((repository) => ({
      repository: repository.name,
      ...(repository.tag === undefined ? {} : { tag: repository.tag }),
      entries: repository.entries,
    })),
  );
  const result = solve(universe, { world, arch, backtrack: !options.noBacktrack });

  if (options.json) {
    io.out(JSON.stringify(resolveJson(result, arch, world, loaded), null, 2));
  } else if (result.ok) {
    // apk writes warnings to stderr and the install lines to stdout
    for (const warning of result.warnings) io.err(warning);
    io.out(formatInstallOutput({ ...result, warnings: [] }));
  } else {
    io.err(formatInstallOutput(result));
  }
  return result.ok ? 0 : 1;
}

/** Splits `--repo FILE` / `--repo @TAG FILE` (in order) from the atoms. */
function parseResolveArgs(args: string[]): {
  repositories: RepositoryArgument[];
  world: string[];
  options: { keys?: string; arch?: string; json: boolean; noBacktrack: boolean };
} {
  const { values, tokens } = parseArgs({
    args,
    allowPositionals: true,
    tokens: true,
    options: {
      repo: { type: "string", multiple: true },
      keys: { type: "string" },
      arch: { type: "string" },
      json: { type: "boolean" },
      "no-backtrack": { type: "boolean" },
    },
  });
  const repositories: RepositoryArgument[] = [];
  const world: string[] = [];
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === undefined) continue;
    if (token.kind === "positional") {
      world.push(token.value);
    } else if (token.kind === "option" && token.name === "repo") {
      const value = token.value ?? "";
      if (!value.startsWith("@")) {
        repositories.push({ file: value });
        continue;
      }
      const tag = value.slice(1);
      const next = tokens[index + 1];
      if (tag === "" || /[\s@]/.test(tag)) {
        throw new UsageError(`"${value}" is not a repository tag (expected @TAG)`);
      }
      if (next?.kind !== "positional") {
        throw new UsageError(`--repo ${value} needs the index FILE after the tag`);
      }
      repositories.push({ file: next.value, tag });
      index++;
    }
  }
  if (repositories.length === 0) throw new UsageError("resolve needs at least one --repo FILE");
  if (repositories.length > MAX_REPOSITORIES) {
    throw new UsageError(`resolve takes at most ${MAX_REPOSITORIES} --repo`);
  }
  if (world.length === 0) throw new UsageError("resolve takes at least one ATOM");
  if (values.arch === "") throw new UsageError("--arch needs an architecture");
  return {
    repositories,
    world,
    options: {
      ...(values.keys === undefined ? {} : { keys: values.keys }),
      ...(values.arch === undefined ? {} : { arch: values.arch }),
      json: values.json === true,
      noBacktrack: values["no-backtrack"] === true,
    },
  };
}

/**
 * Reads an index: gzip data as an APKINDEX.tar.gz (its signature required
 * only when a keyring is given, as `tailorctl apk verify` does), anything
 * else as APKINDEX text.
 */
async function loadRepository(
  repository: RepositoryArgument,
  keyring: Keyring | undefined,
  earlier: readonly LoadedRepository[],
): Promise<LoadedRepository> {
  const { file } = repository;
  const bytes = new Uint8Array(await readFile(file));
  const parsed =
    bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]
      ? await readApkIndexArchive(bytes, {
          file,
          ...(keyring === undefined ? {} : { keyring, requireSignature: true }),
        })
      : parseApkIndexText(new TextDecoder("utf-8").decode(bytes), { file });
  const copies = earlier.filter((other) => other.file === file).length;
  return {
    ...repository,
    name: copies === 0 ? file : `${file}#${copies + 1}`,
    entries: parsed.entries,
    skipped: parsed.skipped,
  };
}

/**
 * The arch every entry of the indexes declares (`noarch` entries aside), else
 * {@link FALLBACK_ARCH}: an entry without `A:` (hand-written test indexes) or
 * two arches make the indexes say nothing about the target.
 */
function defaultArch(repositories: readonly LoadedRepository[]): string {
  const arches = new Set<string>();
  for (const repository of repositories) {
    for (const entry of repository.entries) {
      if (entry.arch === undefined) return FALLBACK_ARCH;
      if (entry.arch !== "noarch") arches.add(entry.arch);
    }
  }
  const [only] = arches;
  return arches.size === 1 && only !== undefined ? only : FALLBACK_ARCH;
}

function resolveJson(
  result: SolveResult,
  arch: string,
  world: readonly string[],
  repositories: readonly LoadedRepository[],
): ResolveJson {
  const outcome = result.ok
    ? {
        ok: true,
        arch,
        world,
        packages: result.packages.map((pkg) => ({
          name: pkg.name,
          version: pkg.version,
          arch: pkg.arch,
          repository: pkg.repository,
          ...(pkg.installTag === undefined ? {} : { tag: pkg.installTag }),
          checksum: pkg.checksum,
          installedSize: pkg.installedSize,
        })),
        installedSize: result.installedSize,
        backtracked: result.backtracked,
      }
    : { ok: false, arch, world, problems: result.problems };
  return {
    ...outcome,
    warnings: result.warnings,
    text: formatInstallOutput(result),
    repositories: repositories.map((repository) => ({
      name: repository.name,
      file: repository.file,
      ...(repository.tag === undefined ? {} : { tag: repository.tag }),
      packages: repository.entries.length,
    })),
  };
}
