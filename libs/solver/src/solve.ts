/**
 * `solve`: apk-tools' answer for a fresh install of a world, with Tailor's
 * additions — pinned source-image packages, an entitlement predicate, and
 * backtracking over package versions when apk's single pass dead-ends.
 */
import type { PassResult, WorldDep } from "./apk-pass.js";
import { PassWorkspace, runApkPass } from "./apk-pass.js";
import type { Dep } from "./dependency.js";
import { EQUAL, parseAtomParts } from "./dependency.js";
import type { SolveProblem, Unusable } from "./error-report.js";
import { compareNamesDisplay, reportErrors } from "./error-report.js";
import { passGraph } from "./pass-graph.js";
import { universeData } from "./universe.js";
import type {
  NameNode,
  PackageNode,
  Universe,
  UniverseData,
  UniversePackage,
} from "./universe-types.js";

/** What to solve. */
export interface SolveRequest {
  /** Atoms as typed: `a`, `b>1`, `a@testing`, `!b`, `cmd:babel`, `so:libc.musl-x86_64.so.1`, `a~2.4`, `a>~2.5`. */
  readonly world: readonly string[];
  /** Target architecture: packages of other arches (except noarch) are not installable. */
  readonly arch: string;
  /** Source image packages: installed at exactly this version, never removed or changed. */
  readonly pinned?: readonly { readonly name: string; readonly version: string }[];
  /**
   * Entitlement predicate for non-pinned packages; refused packages are never
   * chosen. Asked once per package the solver considers (not for every
   * package it discovers); the error report may ask again.
   */
  readonly allow?: (pkg: UniversePackage) => boolean;
  /**
   * Retry with other versions when apk's single pass fails (Tailor's
   * backtracking). Default true; false gives exactly apk's answer.
   */
  readonly backtrack?: boolean;
  /** apk's `--force-broken-world`: drop world atoms that cannot be satisfied and solve the rest. */
  readonly forceBrokenWorld?: boolean;
}

/** A package of the solution. */
export interface SolvedPackage extends UniversePackage {
  /** True for a package of the `pinned` set. */
  readonly pinned: boolean;
  /** The repository tag it is installed from (without `@`), when not the default. */
  readonly installTag?: string;
}

/** The outcome of {@link solve}. */
export type SolveResult =
  | {
      readonly ok: true;
      /** In apk's install order: dependencies before dependents. */
      readonly packages: readonly SolvedPackage[];
      /** Sum of installed sizes in bytes. */
      readonly installedSize: number;
      /** Lines apk prints before the install (e.g. broken packages in the indexes). */
      readonly warnings: readonly string[];
      /** True when apk's own pass failed and backtracking found this answer. */
      readonly backtracked: boolean;
      /** World atoms dropped by `forceBrokenWorld`. */
      readonly droppedWorld: readonly string[];
    }
  | {
      readonly ok: false;
      readonly problems: readonly SolveProblem[];
      /** apk's error output exactly (warnings first), without a trailing newline. */
      readonly text: string;
      readonly warnings: readonly string[];
    };

export type { SolveProblem };

const BROKEN_WARNING = "WARNING: The indexes contain broken packages which are not installable.";
/** How many repository tags one world may name (one bit each in apk's pinning masks). */
const MAX_WORLD_TAGS = 31;
/** How many alternative version choices backtracking tries before giving up. */
const MAX_BACKTRACK_ATTEMPTS = 64;

/** Solves `request` against `universe`. Deterministic: the same input gives the same output. */
export function solve(universe: Universe, request: SolveRequest): SolveResult {
  const data = universeData(universe);
  const warnings = universe.brokenPackages.length > 0 ? [BROKEN_WARNING] : [];
  const fail = (problems: SolveProblem[], text: string): SolveResult => ({
    ok: false,
    problems,
    text: [...warnings, text].join("\n"),
    warnings,
  });

  // Names the world uses that the universe does not know: give them empty nodes.
  const extraNames = new Map<string, NameNode>();
  const nameOf = (name: string): NameNode => {
    const known = data.names.get(name) ?? extraNames.get(name);
    if (known !== undefined) return known;
    const node: NameNode = {
      id: data.nameList.length + extraNames.size,
      name,
      providers: [],
      rdepends: [],
      rinstallIf: [],
    };
    extraNames.set(name, node);
    return node;
  };
  // The universe's tags, then tags the world names that no repository has.
  const tags = [...data.tags];
  const tagId = (tag: string | undefined): number => {
    if (tag === undefined) return 0;
    let id = tags.indexOf(`@${tag}`);
    if (id === -1) {
      id = tags.length;
      tags.push(`@${tag}`);
    }
    return id;
  };

  const world: WorldDep[] = [];
  const requested = new Set<NameNode>();
  for (const text of request.world) {
    let dep: Dep;
    try {
      const parts = parseAtomParts(text);
      if (parts.broken) throw new Error("invalid version");
      dep = { ...parts, name: nameOf(parts.name) };
    } catch {
      const message = `ERROR: '${text}' is not a valid world dependency, format is name(@tag)([<>~=]version)`;
      return fail([{ package: text, kind: "invalid world dependency", lines: [message] }], message);
    }
    const entry: WorldDep = {
      dep,
      tagId: tagId(dep.tag),
      origin: "world",
      text,
      broken: false,
    };
    // apk_deps_add: a later atom for the same name replaces the earlier one
    const same = world.findIndex((w) => w.dep.name === dep.name);
    if (same === -1) world.push(entry);
    else world[same] = entry;
    requested.add(dep.name);
  }
  const pinnedPackages = new Set<PackageNode>();
  for (const pin of request.pinned ?? []) {
    const name = nameOf(pin.name);
    const dep: Dep = { name, mask: EQUAL, version: pin.version, tag: undefined, broken: false };
    world.push({
      dep,
      tagId: 0,
      origin: "pinned",
      text: `${pin.name}=${pin.version}`,
      broken: false,
    });
    for (const p of name.providers) {
      if (p.pkg.name === name && p.pkg.info.version === pin.version) pinnedPackages.add(p.pkg);
    }
  }
  // apk sorts the world by name before solving
  world.sort((a, b) => compareNamesDisplay(a.dep.name.name, b.dep.name.name));

  if (!request.forceBrokenWorld) {
    const missing = world.filter((w) => w.tagId >= data.tags.length);
    if (missing.length > 0) {
      const lines = [
        ...missing.map(
          (w) =>
            `WARNING: The repository tag for world dependency '${w.dep.name.name}${tags[w.tagId]}' does not exist`,
        ),
        "ERROR: Not committing changes due to missing repository tags. Use --force-broken-world to override.",
      ];
      return fail(
        missing.map((w) => ({
          package: w.dep.name.name,
          kind: "missing repository tag",
          lines: [lines[0] ?? ""],
        })),
        lines.join("\n"),
      );
    }
  }

  // Pinning masks hold one bit per tag the world names (apk: per tag), so a
  // universe may have any number of tags, but one world at most 31 of them.
  const tagBits = new Array<number>(data.tags.length).fill(0);
  tagBits[0] = 1;
  const bitTags = [0];
  const worldTags = [...new Set(world.map((w) => w.tagId))]
    .filter((id) => id !== 0 && id < data.tags.length)
    .sort((a, b) => a - b);
  if (worldTags.length > MAX_WORLD_TAGS) {
    const message = `ERROR: the world names ${worldTags.length} repository tags, at most ${MAX_WORLD_TAGS} are supported`;
    return fail(
      [{ package: "world", kind: "too many repository tags", lines: [message] }],
      message,
    );
  }
  for (const id of worldTags) {
    tagBits[id] = 1 << bitTags.length;
    bitTags.push(id);
  }

  const allow = request.allow;
  const archOk = (pkg: PackageNode) => {
    const arch = pkg.info.arch;
    return arch === "" || arch === "noarch" || arch === request.arch;
  };
  const unusable = (pkg: PackageNode): Unusable | undefined => {
    const broken = pkg.brokenReason !== undefined;
    const arch = archOk(pkg) ? undefined : pkg.info.arch;
    const notEntitled = allow !== undefined && !pinnedPackages.has(pkg) && !allow(pkg.info);
    return broken || arch !== undefined || notEntitled ? { broken, arch, notEntitled } : undefined;
  };
  // Whether a package is installable at all (not broken, arch, entitlement),
  // by package id for the whole solve: 0 not asked yet, 1 no, 2 yes.
  const installable = new Uint8Array(data.packages.length);
  const isInstallable = (pkg: PackageNode): boolean => {
    let known = installable[pkg.id] as number;
    if (known === 0) {
      const ok =
        pkg.brokenReason === undefined &&
        archOk(pkg) &&
        (allow === undefined || pinnedPackages.has(pkg) || allow(pkg.info));
      known = ok ? 2 : 1;
      installable[pkg.id] = known;
    }
    return known === 2;
  };
  const passData =
    extraNames.size === 0
      ? data
      : { ...data, nameList: [...data.nameList, ...extraNames.values()] };

  const graph = passGraph(data);
  // One workspace per universe, reused by every pass of every solve.
  const workspace = takeWorkspace(data, passData.nameList.length);
  try {
    const run = (excluded: ReadonlySet<PackageNode>): PassResult =>
      runApkPass({
        data: passData,
        graph,
        world,
        tagBits,
        bitTags,
        requested,
        usable:
          excluded.size === 0 ? isInstallable : (pkg) => isInstallable(pkg) && !excluded.has(pkg),
        workspace,
      });
    let pass = run(new Set());
    const dropped: string[] = [];
    if (pass.errors > 0 && request.forceBrokenWorld) {
      for (const [index, w] of world.entries()) {
        if (pass.worldFailed[index]) {
          w.broken = true;
          dropped.push(w.text);
        }
      }
      pass = run(new Set());
    }
    let backtracked = false;
    if (pass.errors > 0 && request.backtrack !== false) {
      const found = backtrack(pass, run, (pkg) => !pinnedPackages.has(pkg));
      if (found !== undefined) {
        pass = found;
        backtracked = true;
      }
    }
    if (pass.errors > 0) {
      const { text, problems } = reportErrors({ pass, world, tags, unusable });
      return fail(problems, text);
    }

    const packages: SolvedPackage[] = pass.changes.map(({ pkg, tagId: tag }) => {
      const installTag = tag === 0 ? undefined : tags[tag]?.slice(1);
      return {
        ...pkg.info,
        pinned: pinnedPackages.has(pkg),
        ...(installTag === undefined ? {} : { installTag }),
      };
    });
    const installedSize = packages.reduce((sum, p) => sum + p.installedSize, 0);
    return { ok: true, packages, installedSize, warnings, backtracked, droppedWorld: dropped };
  } finally {
    workspace.busy = false;
  }
}

const WORKSPACES = new WeakMap<UniverseData, PassWorkspace>();

/**
 * The universe's pass workspace, grown to `names` names when the world adds
 * names; a fresh one when a solve is already using it (an `allow` predicate
 * that solves again).
 */
function takeWorkspace(data: UniverseData, names: number): PassWorkspace {
  let workspace = WORKSPACES.get(data);
  if (workspace?.busy)
    workspace = undefined; // not cached: the running solve keeps its own
  else if (workspace === undefined || workspace.nameCapacity < names) {
    workspace = new PassWorkspace(names, data.packages.length);
    WORKSPACES.set(data, workspace);
  }
  workspace ??= new PassWorkspace(names, data.packages.length);
  workspace.busy = true;
  return workspace;
}

/**
 * Breadth-first over sets of excluded package versions: a package chosen by
 * the failed pass is excluded when another version of the same name exists,
 * and apk's pass runs again. The first pass without errors wins; exclusion
 * sets are tried smallest first, in install order, so the answer is
 * deterministic and stays as close to apk's as possible.
 */
function backtrack(
  failed: PassResult,
  run: (excluded: ReadonlySet<PackageNode>) => PassResult,
  canExclude: (pkg: PackageNode) => boolean,
): PassResult | undefined {
  const queue: { excluded: Set<PackageNode>; pass: PassResult }[] = [
    { excluded: new Set(), pass: failed },
  ];
  const tried = new Set<string>([""]);
  let attempts = 0;
  while (queue.length > 0 && attempts < MAX_BACKTRACK_ATTEMPTS) {
    const item = queue.shift();
    if (item === undefined) break;
    const candidates = item.pass.changes
      .map((c) => c.pkg)
      .filter(
        (pkg) =>
          canExclude(pkg) &&
          pkg.name.providers.some((p) => p.pkg !== pkg && p.pkg.name === pkg.name),
      );
    // packages the pass marked as errors first: they are where it dead-ended
    const errorOf = new Map(item.pass.changes.map((c) => [c.pkg, c.error]));
    candidates.sort((a, b) => Number(errorOf.get(b)) - Number(errorOf.get(a)));
    for (const pkg of candidates) {
      const excluded = new Set(item.excluded);
      excluded.add(pkg);
      const key = [...excluded]
        .map((p) => p.id)
        .sort((a, b) => a - b)
        .join(",");
      if (tried.has(key)) continue;
      tried.add(key);
      if (++attempts > MAX_BACKTRACK_ATTEMPTS) break;
      const pass = run(excluded);
      if (pass.errors === 0) return pass;
      queue.push({ excluded, pass });
    }
  }
  return undefined;
}
