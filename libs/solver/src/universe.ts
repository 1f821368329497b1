/**
 * Building a universe: interning names, merging packages seen in several
 * repositories (same checksum), parsing atoms once (cached by text), and the
 * reverse edges apk's solver walks.
 */
import type { IndexEntry } from "@tailor/apk";
import type { AtomParts, Dep } from "./dependency.js";
import { ANY, EQUAL, parseAtomParts } from "./dependency.js";
import type {
  NameNode,
  PackageNode,
  Universe,
  UniverseData,
  UniversePackage,
} from "./universe-types.js";

const DATA = new WeakMap<Universe, UniverseData>();

/** The largest number of repositories a universe can hold (one bit each). */
export const MAX_REPOSITORIES = 30;

/** The graph behind a universe made by this package. */
export function universeData(universe: Universe): UniverseData {
  const data = DATA.get(universe);
  if (data === undefined) throw new TypeError("not a universe made by createUniverse");
  return data;
}

/**
 * Compiles packages into an immutable universe. Packages with the same
 * checksum are one package available from several repositories (the first
 * one given describes it). Dependencies that do not parse make a package
 * uninstallable, as apk does; they never make this throw.
 * @throws RangeError with more than {@link MAX_REPOSITORIES} repositories.
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
  if (repositories.length > MAX_REPOSITORIES) {
    throw new RangeError(
      `a universe holds at most ${MAX_REPOSITORIES} repositories, got ${repositories.length}`,
    );
  }
  const repoIndex = new Map(repositories.map((repo, index) => [repo.name, index]));
  const tags = [""];
  const tagRepos = [0];
  for (const [index, repo] of repositories.entries()) {
    let tag = 0;
    if (repo.tag !== undefined) {
      tag = tags.indexOf(`@${repo.tag}`);
      if (tag === -1) {
        tag = tags.length;
        tags.push(`@${repo.tag}`);
        tagRepos.push(0);
      }
    }
    tagRepos[tag] = (tagRepos[tag] ?? 0) | (1 << index);
  }

  // Atoms repeat a lot (so:libc.musl-x86_64.so.1): parse each text once.
  const atomCache = new Map<string, AtomParts | string>();
  const parse = (text: string): AtomParts | string => {
    let parts = atomCache.get(text);
    if (parts === undefined) {
      try {
        parts = parseAtomParts(text);
      } catch (error) {
        parts = error instanceof Error ? error.message : String(error);
      }
      atomCache.set(text, parts);
    }
    return parts;
  };
  const toDep = (parts: AtomParts): Dep => ({
    name: intern(parts.name),
    mask: parts.mask,
    version: parts.version,
    tag: parts.tag,
    broken: parts.broken,
  });

  const byChecksum = new Map<string, PackageNode>();
  const nodes: PackageNode[] = [];
  const broken: { package: string; reason: string }[] = [];
  for (const info of input) {
    const repoBit = 1 << (repoIndex.get(info.repository) ?? 0);
    const identity = checksumIdentity(info.checksum);
    const existing = byChecksum.get(identity);
    if (existing !== undefined) {
      existing.repos |= repoBit;
      continue;
    }
    let brokenReason: string | undefined;
    const depends: Dep[] = [];
    for (const text of info.depends) {
      const parts = parse(text);
      if (typeof parts === "string") {
        brokenReason = parts;
        break; // apk stops reading the list at an atom it cannot parse
      }
      if (parts.tag !== undefined) {
        brokenReason = `dependency "${text}" has a repository tag`;
        break;
      }
      if (parts.broken) brokenReason = `dependency "${text}" has an invalid version`;
      depends.push(toDep(parts));
    }
    const provides: Dep[] = [];
    for (const text of info.provides) {
      const parts = parse(text);
      if (typeof parts === "string" || parts.tag !== undefined) break;
      const mask = parts.version === null ? ANY : EQUAL;
      provides.push(toDep({ ...parts, mask }));
    }
    let installIf: Dep[] = [];
    for (const text of info.installIf) {
      const parts = parse(text);
      if (typeof parts === "string" || parts.tag !== undefined) {
        installIf = []; // apk drops a partial install_if rule
        break;
      }
      installIf.push(toDep(parts));
    }
    const node: PackageNode = {
      id: nodes.length,
      info,
      name: intern(info.name),
      depends,
      provides,
      installIf,
      priority: info.providerPriority ?? 0,
      repos: repoBit,
      brokenReason,
    };
    byChecksum.set(identity, node);
    nodes.push(node);
    if (brokenReason !== undefined) {
      broken.push({ package: `${info.name}-${info.version}`, reason: brokenReason });
    }
    node.name.providers.push({ pkg: node, version: info.version });
    for (const provide of provides)
      provide.name.providers.push({ pkg: node, version: provide.version });
  }

  // Reverse edges, in package order, each name once per list (a Set per
  // target name would be slow: so:libc has thousands of reverse edges).
  const seenEdge = new Set<number>();
  const addOnce = (list: NameNode[], name: NameNode, target: NameNode, kind: number) => {
    const key = (target.id * 2 + kind) * 0x100000 + name.id;
    if (seenEdge.has(key)) return;
    seenEdge.add(key);
    list.push(name);
  };
  for (const node of nodes) {
    for (const dep of node.depends) {
      addOnce(dep.name.rdepends, node.name, dep.name, 0);
      for (const provide of node.provides) addOnce(dep.name.rdepends, provide.name, dep.name, 0);
    }
    for (const dep of node.installIf) {
      addOnce(dep.name.rinstallIf, node.name, dep.name, 1);
      for (const provide of node.provides) addOnce(dep.name.rinstallIf, provide.name, dep.name, 1);
    }
  }

  const universe: Universe = Object.freeze({
    size: nodes.length,
    nameCount: nameList.length,
    repositories: Object.freeze(repositories),
    brokenPackages: Object.freeze(broken),
  });
  DATA.set(universe, { names, nameList, packages: nodes, tags, tagRepos });
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

/**
 * The digest a checksum stands for: `Q1…` base64 decodes to the same 20 bytes
 * whatever the unused low bits of its last character are, and apk compares
 * digests, not their spelling.
 */
function checksumIdentity(checksum: string): string {
  if (/^Q[12]/.test(checksum)) {
    return `${checksum.slice(0, 2)}:${Buffer.from(checksum.slice(2), "base64").toString("hex")}`;
  }
  return checksum.toLowerCase();
}
