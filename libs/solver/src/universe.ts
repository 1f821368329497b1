/**
 * Building a universe: interning names, merging packages seen in several
 * repositories (same checksum), parsing atoms once (cached by text), and the
 * reverse edges apk's solver walks.
 */
import type { IndexEntry } from "@tailor/apk";
import type { AtomParts, Dep } from "./dependency.js";
import { ANY, EQUAL, parseAtomParts } from "./dependency.js";
import { passGraph } from "./pass-graph.js";
import type {
  NameNode,
  PackageNode,
  Universe,
  UniverseData,
  UniversePackage,
} from "./universe-types.js";

const DATA = new WeakMap<Universe, UniverseData>();
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const CANONICAL_Q1 = /^Q1[A-Za-z0-9+/]{27}=$/;
const CANONICAL_Q2 = /^Q2[A-Za-z0-9+/]{43}=$/;

/**
 * The largest number of repositories a universe can hold. There is no limit
 * any more (packages keep a list of their repositories, not a bit mask); the
 * constant stays for callers that checked it.
 */
export const MAX_REPOSITORIES = Number.MAX_SAFE_INTEGER;

/** The graph behind a universe made by this package. */
export function universeData(universe: Universe): UniverseData {
  const data = DATA.get(universe);
  if (data === undefined) throw new TypeError("not a universe made by createUniverse");
  return data;
}

/**
 * Compiles packages into an immutable universe. Packages with the same
 * (non-empty) checksum are one package available from several repositories
 * (the first one given describes it). Any number of repositories and tags.
 * Dependencies that do not parse make a package uninstallable, as apk does;
 * they never make this throw.
 */
export function createUniverse(packages: Iterable<UniversePackage>): Universe {
  const names = new Map<string, NameNode>();
  const nameList: NameNode[] = [];
  const intern = (name: string): NameNode => {
    let node = names.get(name);
    if (node === undefined) {
      node = { id: nameList.length, name, providers: [], rdepends: [], rinstallIf: [] };
      names.set(name, node);
      nameList.push(node);
    }
    return node;
  };

  const input = [...packages];
  // Repository order: explicit priority first (ascending), then first appearance.
  const firstSeen = new Map<
    string,
    { index: number; priority: number | undefined; tag?: string }
  >();
  for (const pkg of input) {
    const seen = firstSeen.get(pkg.repository);
    if (seen === undefined) {
      firstSeen.set(pkg.repository, {
        index: firstSeen.size,
        priority: pkg.repositoryPriority,
        ...(pkg.tag === undefined || pkg.tag === "" ? {} : { tag: pkg.tag }),
      });
    } else if (seen.priority === undefined && pkg.repositoryPriority !== undefined) {
      seen.priority = pkg.repositoryPriority;
    }
  }
  const repositories = [...firstSeen.entries()]
    .sort(([, a], [, b]) => {
      const pa = a.priority ?? Number.POSITIVE_INFINITY;
      const pb = b.priority ?? Number.POSITIVE_INFINITY;
      return pa === pb ? a.index - b.index : pa < pb ? -1 : 1;
    })
    .map(([name, seen]) => (seen.tag === undefined ? { name } : { name, tag: seen.tag }));
  const repoIndex = new Map(repositories.map((repo, index) => [repo.name, index]));
  // The tag of each repository (0: untagged), tags numbered in repository order.
  const tags = [""];
  const repoTag = repositories.map((repo) => {
    if (repo.tag === undefined) return 0;
    let tag = tags.indexOf(`@${repo.tag}`);
    if (tag === -1) {
      tag = tags.length;
      tags.push(`@${repo.tag}`);
    }
    return tag;
  });

  // Atoms repeat a lot (so:libc.musl-x86_64.so.1): parse each text once,
  // and share one immutable Dep per text (one per provide text for provides).
  // A tagged atom is refused before its name is interned, as it always was.
  type Parsed = { parts: AtomParts; dep: Dep | null } | string;
  const atomCache = new Map<string, Parsed>();
  const parse = (text: string): Parsed => {
    let parsed = atomCache.get(text);
    if (parsed === undefined) {
      try {
        const parts = parseAtomParts(text);
        parsed = {
          parts,
          dep: parts.tag === undefined ? toDep(parts) : null,
        };
      } catch (error) {
        parsed = error instanceof Error ? error.message : String(error);
      }
      atomCache.set(text, parsed);
    }
    return parsed;
  };
  const provideCache = new Map<string, Dep | null>();
  /** A provide as an atom, or null when it ends the list (unparseable or tagged). */
  const parseProvide = (text: string): Dep | null => {
    let dep = provideCache.get(text);
    if (dep === undefined) {
      const parsed = parse(text);
      if (typeof parsed === "string" || parsed.dep === null) dep = null;
      else {
        const mask = parsed.parts.version === null ? ANY : EQUAL;
        dep = mask === parsed.dep.mask ? parsed.dep : { ...parsed.dep, mask };
      }
      provideCache.set(text, dep);
    }
    return dep;
  };
  function toDep(parts: AtomParts): Dep {
    return {
      name: intern(parts.name),
      mask: parts.mask,
      version: parts.version,
      tag: parts.tag,
      broken: parts.broken,
    };
  }

  // Most packages are in one repository: they share these lists.
  const oneRepository = repositories.map((_, index) => Object.freeze([index]));
  const oneTag = tags.map((_, index) => Object.freeze([index]));
  const byChecksum = new Map<string, PackageNode>();
  const nodes: PackageNode[] = [];
  const broken: { package: string; reason: string }[] = [];
  for (const info of input) {
    const repo = repoIndex.get(info.repository) ?? 0;
    // an empty checksum identifies nothing: the package stands alone
    const identity = info.checksum === "" ? undefined : checksumIdentity(info.checksum);
    const existing = identity === undefined ? undefined : byChecksum.get(identity);
    if (existing !== undefined) {
      existing.repositories = withValue(existing.repositories, repo);
      existing.tags = withValue(existing.tags, repoTag[repo] ?? 0);
      continue;
    }
    let brokenReason: string | undefined;
    const depends: Dep[] = [];
    for (const text of info.depends) {
      const parsed = parse(text);
      if (typeof parsed === "string") {
        brokenReason = parsed;
        break; // apk stops reading the list at an atom it cannot parse
      }
      if (parsed.dep === null) {
        brokenReason = `dependency "${text}" has a repository tag`;
        break;
      }
      if (parsed.parts.broken) brokenReason = `dependency "${text}" has an invalid version`;
      depends.push(parsed.dep);
    }
    const provides: Dep[] = [];
    for (const text of info.provides) {
      const dep = parseProvide(text);
      if (dep === null) break;
      provides.push(dep);
    }
    let installIf: Dep[] = [];
    for (const text of info.installIf) {
      const parsed = parse(text);
      if (typeof parsed === "string" || parsed.dep === null) {
        installIf = []; // apk drops a partial install_if rule
        break;
      }
      installIf.push(parsed.dep);
    }
    const node: PackageNode = {
      id: nodes.length,
      info,
      name: intern(info.name),
      depends,
      provides,
      installIf,
      priority: info.providerPriority ?? 0,
      repositories: oneRepository[repo] as readonly number[],
      tags: oneTag[repoTag[repo] ?? 0] as readonly number[],
      brokenReason,
    };
    if (identity !== undefined) byChecksum.set(identity, node);
    nodes.push(node);
    if (brokenReason !== undefined) {
      broken.push({ package: `${info.name}-${info.version}`, reason: brokenReason });
    }
    node.name.providers.push({ pkg: node, version: info.version });
    for (const provide of provides)
      provide.name.providers.push({ pkg: node, version: provide.version });
  }

  // Reverse edges, in package order, each name once per list: collect
  // (target, source) pairs, group them by target keeping their order, then
  // drop repeats (so:libc has thousands of reverse edges).
  const rdepends: number[] = [];
  const rinstallIf: number[] = [];
  for (const node of nodes) {
    for (const dep of node.depends) {
      rdepends.push(dep.name.id, node.name.id);
      for (const provide of node.provides) rdepends.push(dep.name.id, provide.name.id);
    }
    for (const dep of node.installIf) {
      rinstallIf.push(dep.name.id, node.name.id);
      for (const provide of node.provides) rinstallIf.push(dep.name.id, provide.name.id);
    }
  }
  addReverseEdges(nameList, rdepends, (node) => node.rdepends);
  addReverseEdges(nameList, rinstallIf, (node) => node.rinstallIf);

  const universe: Universe = Object.freeze({
    size: nodes.length,
    nameCount: nameList.length,
    repositories: Object.freeze(repositories),
    brokenPackages: Object.freeze(broken),
  });
  const data: UniverseData = { names, nameList, packages: nodes, tags };
  DATA.set(universe, data);
  passGraph(data); // built here, not on the first solve (a universe is built off the request path)
  return universe;
}

/**
 * A universe from parsed indexes, in repository preference order (the first
 * index is the most preferred, as apk's first `--repository`). Entries
 * without `A:` are treated as `noarch`.
 */
export function universeFromIndexes(
  indexes: readonly {
    readonly repository: string;
    readonly tag?: string;
    readonly entries: readonly IndexEntry[];
  }[],
): Universe {
  function* packages(): Generator<UniversePackage> {
    for (const [priority, index] of indexes.entries()) {
      for (const entry of index.entries) {
        const pkg: {
          -readonly [K in keyof UniversePackage]: UniversePackage[K];
        } = {
          name: entry.name,
          version: entry.version,
          arch: entry.arch ?? "noarch",
          repository: index.repository,
          checksum: entry.checksum,
          size: entry.size,
          installedSize: entry.installedSize,
          depends: entry.depends,
          provides: entry.provides,
          installIf: entry.installIf,
          repositoryPriority: priority,
        };
        if (index.tag !== undefined && index.tag !== "") pkg.tag = index.tag;
        if (entry.providerPriority !== undefined) pkg.providerPriority = entry.providerPriority;
        if (entry.origin !== undefined) pkg.origin = entry.origin;
        yield pkg;
      }
    }
  }
  return createUniverse(packages());
}

/** An ascending list with `value` added (the same list when it is there). */
function withValue(list: readonly number[], value: number): readonly number[] {
  if (list.includes(value)) return list;
  return [...list, value].sort((a, b) => a - b);
}

/**
 * Appends each pair's source name to its target name's list (`pairs` is
 * target, source, …), in pair order, each source once per target.
 */
function addReverseEdges(
  nameList: readonly NameNode[],
  pairs: readonly number[],
  list: (node: NameNode) => NameNode[],
): void {
  const start = new Int32Array(nameList.length + 1);
  for (let i = 0; i < pairs.length; i += 2) {
    const slot = (pairs[i] as number) + 1;
    start[slot] = (start[slot] as number) + 1;
  }
  for (let t = 0; t < nameList.length; t++) {
    start[t + 1] = (start[t + 1] as number) + (start[t] as number);
  }
  const fill = start.slice(0, nameList.length);
  const sources = new Int32Array(pairs.length / 2);
  for (let i = 0; i < pairs.length; i += 2) {
    const target = pairs[i] as number;
    const at = fill[target] as number;
    fill[target] = at + 1;
    sources[at] = pairs[i + 1] as number;
  }
  const last = new Int32Array(nameList.length).fill(-1);
  for (let t = 0; t < nameList.length; t++) {
    const end = start[t + 1] as number;
    let target: NameNode[] | undefined;
    for (let i = start[t] as number; i < end; i++) {
      const source = sources[i] as number;
      if (last[source] === t) continue;
      last[source] = t;
      target ??= list(nameList[t] as NameNode);
      target.push(nameList[source] as NameNode);
    }
  }
}

/**
 * The digest a checksum stands for: `Q1…` base64 decodes to the same 20 bytes
 * whatever the unused low bits of its last character are, and apk compares
 * digests, not their spelling.
 */
function checksumIdentity(checksum: string): string {
  // The usual spelling (what isPackageChecksum accepts): its digest is the
  // text with the unused low bits of the last character cleared.
  if (CANONICAL_Q1.test(checksum) || CANONICAL_Q2.test(checksum)) {
    const last = checksum.length - 2;
    const value = BASE64.indexOf(checksum.charAt(last)) & ~3;
    return `${checksum.slice(0, 2)}:${checksum.slice(2, last)}${BASE64.charAt(value)}`;
  }
  if (/^Q[12]/.test(checksum)) {
    return `${checksum.slice(0, 2)}:${Buffer.from(checksum.slice(2), "base64").toString("base64").replace(/=+$/, "")}`;
  }
  return checksum.toLowerCase();
}
