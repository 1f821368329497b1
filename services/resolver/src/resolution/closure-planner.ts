import type { SolvedPackage, SolveResult } from "@tailor/solver";
import { solve } from "@tailor/solver";
import type { ArchSnapshot } from "../universe/package-universe.js";
import { SourceImageUnresolvableError } from "./errors.js";

/** The parts of a source image a closure depends on. */
export interface SourceImageDefinition {
  readonly name: string;
  readonly mainPackage: string;
  readonly packages: readonly string[];
  readonly devPackages: readonly string[];
  /** Changes with every new definition: part of cache keys. */
  readonly generation: number;
}

/** What an organization may use, as the entitlement service says. */
export interface OrganizationEntitlements {
  readonly orgId: string;
  readonly orgName: string;
  /** Purchased source images that exist in the catalog. */
  readonly purchased: readonly SourceImageDefinition[];
  readonly grantedPackages: readonly string[];
  /** Source images the organization may build from: purchased or customizable. */
  readonly usableSourceImages: ReadonlySet<string>;
}

/** Entitled package names with why each is entitled ("source-image:<name>", "grant"). */
export type EntitledNames = ReadonlyMap<string, readonly string[]>;

/** One problem of a failed closure, in the proto's words. */
export interface ClosureProblem {
  readonly package: string;
  readonly kind: string;
  readonly lines: readonly string[];
}

/** Why there is no closure. */
export interface ClosureFailure {
  readonly text: string;
  readonly problems: readonly ClosureProblem[];
  /** Package names refused because the organization is not entitled to them. */
  readonly notEntitled: readonly string[];
}

/** A closure, or why there is none. */
export type ClosureOutcome =
  | {
      readonly ok: true;
      readonly packages: readonly SolvedPackage[];
      readonly installedSize: number;
      /** Version of the source image's main package in the closure ("" if absent). */
      readonly sourceImageVersion: string;
    }
  | { readonly ok: false; readonly failure: ClosureFailure };

// Derived results are cached per snapshot: a rebuilt universe starts afresh.
const sourceClosures = new WeakMap<ArchSnapshot, Map<string, SolveResult>>();

/** The world of a source image: its packages, plus its dev packages for the -dev variant. */
export function sourceImageWorld(image: SourceImageDefinition, devVariant: boolean): string[] {
  return devVariant ? [...image.packages, ...image.devPackages] : [...image.packages];
}

/**
 * The closure of a source image's own packages. End-of-life versions are
 * avoided when possible; a source image whose packages only exist in
 * end-of-life versions still resolves (its packages are not the customer's
 * choice). Cached per universe snapshot.
 */
export function resolveSourceImage(
  snapshot: ArchSnapshot,
  image: SourceImageDefinition,
  devVariant: boolean,
): SolveResult {
  let cache = sourceClosures.get(snapshot);
  if (cache === undefined) {
    cache = new Map();
    sourceClosures.set(snapshot, cache);
  }
  const key = `${image.name}\0${image.generation}\0${devVariant}\0${sourceImageWorld(image, devVariant).join(" ")}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const world = sourceImageWorld(image, devVariant);
  let result = solve(snapshot.universe, {
    world,
    arch: snapshot.arch,
    allow: (pkg) => !isEndOfLife(snapshot, pkg),
  });
  if (!result.ok) result = solve(snapshot.universe, { world, arch: snapshot.arch });
  cache.set(key, result);
  return result;
}

/** The names an organization may add: its purchased images' closures plus its grants. */
export function entitledNames(
  snapshot: ArchSnapshot,
  entitlements: Pick<OrganizationEntitlements, "purchased" | "grantedPackages">,
): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const add = (name: string, source: string) => {
    const sources = names.get(name);
    if (sources === undefined) names.set(name, [source]);
    else if (!sources.includes(source)) sources.push(source);
  };
  for (const image of entitlements.purchased) {
    const closure = resolveSourceImage(snapshot, image, true);
    if (!closure.ok) continue;
    for (const pkg of closure.packages) add(pkg.name, `source-image:${image.name}`);
  }
  for (const name of entitlements.grantedPackages) add(name, "grant");
  return names;
}

/** What to resolve on top of a source image. */
export interface ClosureRequest {
  readonly image: SourceImageDefinition;
  readonly devVariant: boolean;
  /** Added packages (apk atoms). */
  readonly added: readonly string[];
  readonly entitlements: OrganizationEntitlements;
}

/**
 * The closure of a source image plus added packages: the source image's
 * closure is pinned, everything else must be entitled and not end-of-life.
 * @throws SourceImageUnresolvableError when the source image itself has no closure.
 */
export function resolveClosure(snapshot: ArchSnapshot, request: ClosureRequest): ClosureOutcome {
  const base = resolveSourceImage(snapshot, request.image, request.devVariant);
  if (!base.ok) {
    throw new SourceImageUnresolvableError(request.image.name, snapshot.arch, base.text);
  }
  const entitled = entitledNames(snapshot, request.entitlements);
  const pinned = base.packages.map((pkg) => ({ name: pkg.name, version: pkg.version }));
  const result = solve(snapshot.universe, {
    world: [...sourceImageWorld(request.image, request.devVariant), ...request.added],
    arch: snapshot.arch,
    pinned,
    allow: (pkg) => entitled.has(pkg.name) && !isEndOfLife(snapshot, pkg),
  });
  if (result.ok) {
    const main = result.packages.find((pkg) => pkg.name === request.image.mainPackage);
    return {
      ok: true,
      packages: result.packages,
      installedSize: result.installedSize,
      sourceImageVersion: main?.version ?? "",
    };
  }
  return { ok: false, failure: explainFailure(snapshot, result, entitled, request) };
}

/**
 * The solver's report with the resolver's words added: a package the solver
 * calls "not entitled" is either end-of-life or really not entitled for the
 * organization, and the report says which, naming the package.
 */
function explainFailure(
  snapshot: ArchSnapshot,
  result: Extract<SolveResult, { ok: false }>,
  entitled: EntitledNames,
  request: ClosureRequest,
): ClosureFailure {
  const notEntitled: string[] = [];
  const explanations: string[] = [];
  const problems: ClosureProblem[] = result.problems.map((problem) => {
    const label = problem.package ?? "";
    if (problem.kind !== "not entitled") {
      return { package: label, kind: problem.kind.replaceAll(" ", "_"), lines: problem.lines };
    }
    const known = snapshot.byNameVersion.get(label)?.[0];
    const name = known?.pkg.name ?? label;
    if (known !== undefined && entitled.has(name) && known.endOfLife) {
      const line = `${label} is end-of-life and is no longer offered for customizations`;
      explanations.push(line);
      return { package: label, kind: "end_of_life", lines: [...problem.lines, line] };
    }
    if (!notEntitled.includes(name)) {
      notEntitled.push(name);
      explanations.push(notEntitledLine(name, request.entitlements.orgName));
    }
    return {
      package: label,
      kind: "not_entitled",
      lines: [...problem.lines, notEntitledLine(name, request.entitlements.orgName)],
    };
  });
  // What the caller asked for first: "curl" before the libraries curl would pull in.
  const asked = new Set(request.added.map(atomName));
  const rank = (name: string) => (asked.has(name) ? 0 : 1);
  notEntitled.sort((a, b) => rank(a) - rank(b));
  explanations.sort((a, b) => rank(a.split(" ", 1)[0] ?? "") - rank(b.split(" ", 1)[0] ?? ""));
  const text =
    explanations.length === 0 ? result.text : `${result.text}\n${explanations.join("\n")}`;
  return { text, problems, notEntitled };
}

/** The package name of an apk atom (`curl>8`, `curl@edge` → `curl`). */
function atomName(atom: string): string {
  return atom.replace(/^!/, "").split(/[<>=~@]/, 1)[0] ?? atom;
}

function notEntitledLine(name: string, orgName: string): string {
  return `${name} is not entitled for organization ${orgName} (not in the closure of any purchased source image and not granted)`;
}

function isEndOfLife(
  snapshot: ArchSnapshot,
  pkg: { name: string; version: string; repository: string },
): boolean {
  const candidates = snapshot.byNameVersion.get(`${pkg.name}-${pkg.version}`);
  return (
    candidates?.some((known) => known.pkg.repository === pkg.repository && known.endOfLife) ?? false
  );
}
