/**
 * The part of a universe's graph that apk's discovery walks, as flat id
 * arrays (compressed rows: the entries of row i are `start[i]` to
 * `start[i + 1]`), built once per universe on its first solve. Walking
 * typed arrays instead of objects is what makes discovery cheap: it visits
 * most of the universe on a usual world (install_if rules reach far).
 */
import type { Dep } from "./dependency.js";
import type { NameNode, PackageNode, UniverseData } from "./universe-types.js";

/** Name flags: every provider has no install_if. */
export const NAME_NO_IIF = 1;
/** Name flags: some provider is a package of this name (not only provides). */
export const NAME_HAS_REAL = 2;
/** Package flags: no install_if (apk starts it as "install_if failed"). */
export const PKG_NO_IIF = 1;
/** Package flags: preferred by tag at the start (untagged repository, or installed size 0). */
export const PKG_TAG_PREFERRED = 2;
/** Package flags: found in an untagged repository. */
export const PKG_UNTAGGED = 4;

/** Flat adjacency of a universe, indexed by name id and package id. */
export interface PassGraph {
  /** Number of names of the universe (world-only names have larger ids and no edges). */
  readonly nameCount: number;
  readonly nameFlags: Uint8Array;
  /** Providers of each name: package ids, in the name's provider order. */
  readonly providerStart: Int32Array;
  readonly providerPkg: Int32Array;
  /** Names of packages depending on each name (NameNode.rdepends). */
  readonly rdependsStart: Int32Array;
  readonly rdepends: Int32Array;
  /** Names whose install_if mentions each name (NameNode.rinstallIf). */
  readonly rinstallIfStart: Int32Array;
  readonly rinstallIf: Int32Array;
  /** The name id of each package. */
  readonly pkgName: Int32Array;
  readonly pkgFlags: Uint8Array;
  /** Dependency, provide and install_if name ids of each package. */
  readonly dependStart: Int32Array;
  readonly depend: Int32Array;
  readonly provideStart: Int32Array;
  readonly provide: Int32Array;
  readonly installIfStart: Int32Array;
  readonly installIf: Int32Array;
}

const GRAPHS = new WeakMap<UniverseData, PassGraph>();

/** The universe's flat graph (built on first use, then shared by every solve). */
export function passGraph(data: UniverseData): PassGraph {
  let graph = GRAPHS.get(data);
  if (graph === undefined) {
    graph = buildPassGraph(data);
    GRAPHS.set(data, graph);
  }
  return graph;
}

function buildPassGraph(data: UniverseData): PassGraph {
  const names = data.nameList;
  const packages = data.packages;
  const providers = nameRows(names, 0);
  const rdepends = nameRows(names, 1);
  const rinstallIf = nameRows(names, 2);
  const depends = depRows(packages, (pkg) => pkg.depends);
  const provides = depRows(packages, (pkg) => pkg.provides);
  const installIf = depRows(packages, (pkg) => pkg.installIf);
  const pkgName = new Int32Array(packages.length);
  const pkgFlags = new Uint8Array(packages.length);
  for (const pkg of packages) {
    pkgName[pkg.id] = pkg.name.id;
    let flags = 0;
    if (pkg.installIf.length === 0) flags |= PKG_NO_IIF;
    if (pkg.tags[0] === 0) flags |= PKG_UNTAGGED;
    if (pkg.info.installedSize === 0 || pkg.tags[0] === 0) flags |= PKG_TAG_PREFERRED;
    pkgFlags[pkg.id] = flags;
  }
  const nameFlags = new Uint8Array(names.length);
  for (const name of names) {
    let flags = NAME_NO_IIF;
    for (const p of name.providers) {
      if (p.pkg.installIf.length !== 0) flags &= ~NAME_NO_IIF;
      if (p.pkg.name === name) flags |= NAME_HAS_REAL;
    }
    nameFlags[name.id] = flags;
  }
  return {
    nameCount: names.length,
    nameFlags,
    providerStart: providers.start,
    providerPkg: providers.flat,
    rdependsStart: rdepends.start,
    rdepends: rdepends.flat,
    rinstallIfStart: rinstallIf.start,
    rinstallIf: rinstallIf.flat,
    pkgName,
    pkgFlags,
    dependStart: depends.start,
    depend: depends.flat,
    provideStart: provides.start,
    provide: provides.flat,
    installIfStart: installIf.start,
    installIf: installIf.flat,
  };
}

/** Compressed rows over names of their providers (0), rdepends (1) or rinstallIf (2). */
function nameRows(
  names: readonly NameNode[],
  which: 0 | 1 | 2,
): { start: Int32Array; flat: Int32Array } {
  const start = new Int32Array(names.length + 1);
  let total = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as NameNode;
    total +=
      which === 0
        ? name.providers.length
        : which === 1
          ? name.rdepends.length
          : name.rinstallIf.length;
    start[i + 1] = total;
  }
  const flat = new Int32Array(total);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as NameNode;
    if (which === 0) for (const p of name.providers) flat[at++] = p.pkg.id;
    else for (const n of which === 1 ? name.rdepends : name.rinstallIf) flat[at++] = n.id;
  }
  return { start, flat };
}

/** Compressed rows of the name ids of a list of atoms of each package. */
function depRows(
  packages: readonly PackageNode[],
  list: (pkg: PackageNode) => readonly Dep[],
): { start: Int32Array; flat: Int32Array } {
  const start = new Int32Array(packages.length + 1);
  let total = 0;
  for (let i = 0; i < packages.length; i++) {
    total += list(packages[i] as PackageNode).length;
    start[i + 1] = total;
  }
  const flat = new Int32Array(total);
  let at = 0;
  for (let i = 0; i < packages.length; i++) {
    for (const dep of list(packages[i] as PackageNode)) flat[at++] = dep.name.id;
  }
  return { start, flat };
}
