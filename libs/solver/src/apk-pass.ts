/**
 * One pass of apk-tools' solver (src/solver.c): discover names from the
 * world, propagate constraints, pick providers name by name in apk's queue
 * order, then generate the changeset in apk's install order. A fresh install:
 * nothing is installed beforehand.
 */
import type { Dep, Provider } from "./dependency.js";
import { compareMask, GREATER, isConflict, isProvided, LESS } from "./dependency.js";
import type { PassGraph } from "./pass-graph.js";
import {
  NAME_HAS_REAL,
  NAME_NO_IIF,
  PKG_NO_IIF,
  PKG_TAG_PREFERRED,
  PKG_UNTAGGED,
} from "./pass-graph.js";
import type { NameNode, PackageNode, UniverseData } from "./universe-types.js";

/** `selectable` of a discovered package whose usability is not asked yet. */
const UNKNOWN = 2;

/** A world atom with where it comes from. */
export interface WorldDep {
  readonly dep: Dep;
  /** Index into the solve's tag table (0: untagged). */
  readonly tagId: number;
  /** "world" for requested atoms, "pinned" for the source image's packages. */
  readonly origin: "world" | "pinned";
  /** The atom as typed, for messages. */
  readonly text: string;
  /** Left out of solving (--force-broken-world after a failed pass). */
  broken: boolean;
}

/** Per-solve settings. */
export interface PassOptions {
  /** The universe's data, with names only the world uses appended to `nameList`. */
  readonly data: UniverseData;
  /** The universe's flat graph (`passGraph` of the universe's own data). */
  readonly graph: PassGraph;
  readonly world: readonly WorldDep[];
  /**
   * The pinning bit of each tag of the universe (index: tag id): 1 for the
   * untagged one, a bit of its own for each tag the world names, 0 for the
   * others (pinning masks only ever hold the tags of world atoms).
   */
  readonly tagBits: readonly number[];
  /** The tag id of each pinning bit (inverse of `tagBits`), ascending. */
  readonly bitTags: readonly number[];
  /** Names the user asked for (apk_solver_set_name_flags). */
  readonly requested: ReadonlySet<NameNode>;
  /**
   * Whether a package may be installed at all (arch, entitlement,
   * exclusions). Asked at most once per package and pass, and only for
   * packages whose selectability the pass looks at.
   */
  readonly usable: (pkg: PackageNode) => boolean;
  /** Scratch state, reset by the pass (see {@link PassWorkspace}). */
  readonly workspace: PassWorkspace;
}

/**
 * The mutable state of a pass, as flat arrays indexed by name and package id
 * (apk keeps it in its name and package structs). A universe keeps one and
 * every pass resets the part it uses, so solving allocates almost nothing.
 * Nothing of it outlives a pass: {@link PassResult} holds copies.
 */
export class PassWorkspace {
  readonly nameCapacity: number;
  readonly packageCapacity: number;
  /** In use by a pass (a re-entrant solve gets a workspace of its own). */
  busy = false;

  // ---- per name
  readonly seen: Uint8Array;
  readonly locked: Uint8Array;
  readonly hasVirtualProvides: Uint8Array;
  readonly reevaluateDeps: Uint8Array;
  readonly reevaluateIif: Uint8Array;
  readonly hasIif: Uint8Array;
  readonly noIif: Uint8Array;
  readonly hasOptions: Uint8Array;
  readonly reverseDepsDone: Uint8Array;
  readonly hasAutoSelectable: Uint8Array;
  readonly iifNeeded: Uint8Array;
  readonly resolvenow: Uint8Array;
  readonly changesetProcessed: Uint8Array;
  readonly requested: Uint8Array;
  /** Which unresolved list the name is on: 0 none, 1 resolvenow, 2 selectable, 3 unresolved. */
  readonly list: Uint8Array;
  readonly dirty: Uint8Array;
  readonly requirers: Int32Array;
  readonly mergeDepends: Int32Array;
  readonly mergeProvides: Int32Array;
  readonly orderId: Int32Array;
  /** List links by name id, -1 for none. */
  readonly prev: Int32Array;
  readonly next: Int32Array;
  readonly dirtyPrev: Int32Array;
  readonly dirtyNext: Int32Array;
  readonly chosen: (Provider | null)[];

  // ---- per package
  readonly pkgSeen: Uint8Array;
  readonly selectable: Uint8Array;
  readonly iifFailed: Uint8Array;
  readonly iifTriggered: Uint8Array;
  readonly tagPreferred: Uint8Array;
  readonly tagOk: Uint8Array;
  readonly dependenciesMerged: Uint8Array;
  readonly dependenciesUsed: Uint8Array;
  readonly inChangeset: Uint8Array;
  readonly error: Uint8Array;
  readonly pinningAllowed: Int32Array;
  readonly pinningPreferred: Int32Array;
  readonly conflicts: Int32Array;
  /** Pinning bits of the tags of the package's repositories. */
  readonly pkgTags: Int32Array;
  /** Discovery: entries of the package's rinstall_if / provides before these are seen. */
  readonly rinstallIfCursor: Int32Array;
  readonly providesCursor: Int32Array;

  constructor(names: number, packages: number) {
    this.nameCapacity = names;
    this.packageCapacity = packages;
    const bytes = () => new Uint8Array(names);
    const ints = () => new Int32Array(names);
    this.seen = bytes();
    this.locked = bytes();
    this.hasVirtualProvides = bytes();
    this.reevaluateDeps = bytes();
    this.reevaluateIif = bytes();
    this.hasIif = bytes();
    this.noIif = bytes();
    this.hasOptions = bytes();
    this.reverseDepsDone = bytes();
    this.hasAutoSelectable = bytes();
    this.iifNeeded = bytes();
    this.resolvenow = bytes();
    this.changesetProcessed = bytes();
    this.requested = bytes();
    this.list = bytes();
    this.dirty = bytes();
    this.requirers = ints();
    this.mergeDepends = ints();
    this.mergeProvides = ints();
    this.orderId = ints();
    this.prev = ints();
    this.next = ints();
    this.dirtyPrev = ints();
    this.dirtyNext = ints();
    this.chosen = new Array<Provider | null>(names).fill(null);
    const pkgBytes = () => new Uint8Array(packages);
    const pkgInts = () => new Int32Array(packages);
    this.pkgSeen = pkgBytes();
    this.selectable = pkgBytes();
    this.iifFailed = pkgBytes();
    this.iifTriggered = pkgBytes();
    this.tagPreferred = pkgBytes();
    this.tagOk = pkgBytes();
    this.dependenciesMerged = pkgBytes();
    this.dependenciesUsed = pkgBytes();
    this.inChangeset = pkgBytes();
    this.error = pkgBytes();
    this.pinningAllowed = pkgInts();
    this.pinningPreferred = pkgInts();
    this.conflicts = pkgInts();
    this.pkgTags = pkgInts();
    this.rinstallIfCursor = pkgInts();
    this.providesCursor = pkgInts();
  }

  /** Every name and package back to its initial state, up to the given counts. */
  reset(names: number, packages: number): void {
    for (const a of [
      this.seen,
      this.locked,
      this.hasVirtualProvides,
      this.reevaluateDeps,
      this.reevaluateIif,
      this.hasIif,
      this.noIif,
      this.hasOptions,
      this.reverseDepsDone,
      this.hasAutoSelectable,
      this.iifNeeded,
      this.resolvenow,
      this.changesetProcessed,
      this.requested,
      this.list,
      this.dirty,
    ]) {
      a.fill(0, 0, names);
    }
    for (const a of [this.requirers, this.mergeDepends, this.mergeProvides, this.orderId]) {
      a.fill(0, 0, names);
    }
    for (const a of [this.prev, this.next, this.dirtyPrev, this.dirtyNext]) a.fill(-1, 0, names);
    this.chosen.fill(null, 0, names);
    for (const a of [
      this.pkgSeen,
      this.selectable,
      this.iifFailed,
      this.iifTriggered,
      this.tagPreferred,
      this.tagOk,
      this.dependenciesMerged,
      this.dependenciesUsed,
      this.inChangeset,
      this.error,
    ]) {
      a.fill(0, 0, packages);
    }
    this.pinningAllowed.fill(1, 0, packages);
    this.pinningPreferred.fill(1, 0, packages);
    for (const a of [this.conflicts, this.pkgTags, this.rinstallIfCursor, this.providesCursor]) {
      a.fill(0, 0, packages);
    }
  }
}

/** A package of the changeset. */
export interface Change {
  readonly pkg: PackageNode;
  /** The tag it is installed from. */
  readonly tagId: number;
  /** The pass marked it as an error (where it dead-ended). */
  readonly error: boolean;
}

/** What a pass found (copies: valid after later passes reuse the workspace). */
export interface PassResult {
  readonly errors: number;
  /** Packages in install order, each with the tag it is installed from. */
  readonly changes: readonly Change[];
  /**
   * For each world atom (same order): true when its name got no package, or
   * one the pass marked as an error.
   */
  readonly worldFailed: readonly boolean[];
}

/** Runs apk's solver once. */
export function runApkPass(options: PassOptions): PassResult {
  const { data, graph, world, tagBits, bitTags, requested, usable, workspace: w } = options;
  const nameList = data.nameList;
  const packages = data.packages;
  const universeNames = graph.nameCount;
  const {
    nameFlags,
    providerStart,
    providerPkg,
    rdependsStart: nameRdependsStart,
    rdepends: nameRdepends,
    rinstallIfStart: nameRinstallIfStart,
    rinstallIf: nameRinstallIf,
    pkgName,
    pkgFlags,
    dependStart,
    depend,
    provideStart,
    provide,
    installIfStart,
    installIf: pkgInstallIf,
  } = graph;
  const onlyUntagged = bitTags.length === 1;
  w.reset(nameList.length, data.packages.length);
  const {
    seen,
    locked,
    hasVirtualProvides,
    reevaluateDeps: reevaluateDepsOf,
    reevaluateIif: reevaluateIifOf,
    hasIif: hasIifOf,
    noIif: noIifOf,
    hasOptions,
    reverseDepsDone,
    hasAutoSelectable: hasAutoSelectableOf,
    iifNeeded,
    resolvenow,
    changesetProcessed,
    list,
    dirty,
    requirers,
    mergeDepends,
    mergeProvides,
    orderId,
    prev,
    next,
    dirtyPrev,
    dirtyNext,
    chosen: chosenOf,
    pkgSeen,
    selectable,
    iifFailed,
    iifTriggered,
    tagPreferred,
    tagOk,
    dependenciesMerged,
    dependenciesUsed,
    inChangeset,
    error,
    pinningAllowed,
    pinningPreferred,
    conflicts,
    rinstallIfCursor,
    providesCursor,
    pkgTags,
  } = w;
  const requestedOf = w.requested;
  for (const name of requested) requestedOf[name.id] = 1;
  let errors = 0;
  let orderCounter = 0;
  let pinningInherit = 0;

  let dirtyHead = -1;
  let dirtyTail = -1;
  // heads and tails of the resolvenow (1), selectable (2) and unresolved (3) lists
  const heads = [-1, -1, -1, -1];
  const tails = [-1, -1, -1, -1];

  const listRemove = (id: number) => {
    const which = list[id] as number;
    if (which === 0) return;
    const p = prev[id] as number;
    const n = next[id] as number;
    if (p !== -1) next[p] = n;
    else heads[which] = n;
    if (n !== -1) prev[n] = p;
    else tails[which] = p;
    prev[id] = next[id] = -1;
    list[id] = 0;
  };
  const listAppend = (which: number, id: number) => {
    const tail = tails[which] as number;
    list[id] = which;
    next[id] = -1;
    prev[id] = tail;
    if (tail !== -1) next[tail] = id;
    else heads[which] = id;
    tails[which] = id;
  };
  const listInsertOrdered = (which: number, id: number) => {
    const order = orderId[id] as number;
    let at = heads[which] as number;
    while (at !== -1 && order < (orderId[at] as number)) at = next[at] as number;
    if (at === -1) {
      listAppend(which, id);
      return;
    }
    const before = prev[at] as number;
    list[id] = which;
    next[id] = at;
    prev[id] = before;
    if (before !== -1) next[before] = id;
    else heads[which] = id;
    prev[at] = id;
  };
  const dirtyRemove = (id: number) => {
    if (!dirty[id]) return;
    const p = dirtyPrev[id] as number;
    const n = dirtyNext[id] as number;
    if (p !== -1) dirtyNext[p] = n;
    else dirtyHead = n;
    if (n !== -1) dirtyPrev[n] = p;
    else dirtyTail = p;
    dirtyPrev[id] = dirtyNext[id] = -1;
    dirty[id] = 0;
  };

  /** Whether a package is selectable, asking `usable` the first time. */
  const isSelectable = (pid: number): number => {
    const value = selectable[pid] as number;
    if (value !== UNKNOWN) return value;
    const ok = usable(packages[pid] as PackageNode) ? 1 : 0;
    selectable[pid] = ok;
    return ok;
  };

  const markError = (pkg: PackageNode | null) => {
    if (pkg === null || error[pkg.id]) return;
    error[pkg.id] = 1;
    errors++;
  };

  const queueDirty = (id: number) => {
    if (dirty[id] || locked[id] || (requirers[id] === 0 && !reevaluateIifOf[id])) return;
    dirty[id] = 1;
    dirtyNext[id] = -1;
    dirtyPrev[id] = dirtyTail;
    if (dirtyTail !== -1) dirtyNext[dirtyTail] = id;
    else dirtyHead = id;
    dirtyTail = id;
  };

  const queueResolvenow = (id: number) =>
    reverseDepsDone[id] === 1 &&
    (requirers[id] as number) > 0 &&
    hasAutoSelectableOf[id] === 1 &&
    hasOptions[id] === 0;

  const queueUnresolved = (id: number, reevaluate: boolean) => {
    if (locked[id]) return;
    if (list[id] !== 0) {
      if (resolvenow[id]) return;
      if (queueResolvenow(id)) resolvenow[id] = 1;
      else if (!reevaluate) return;
      listRemove(id);
    } else {
      if (requirers[id] === 0 && !hasIifOf[id] && !iifNeeded[id]) return;
      resolvenow[id] = queueResolvenow(id) ? 1 : 0;
    }
    if (resolvenow[id]) listAppend(1, id);
    else listInsertOrdered(hasAutoSelectableOf[id] ? 2 : 3, id);
  };

  const reevaluateReverseDeps = (name: NameNode) => {
    const id = name.id;
    if (id >= universeNames) return; // a world-only name: nothing depends on it
    const end = nameRdependsStart[id + 1] as number;
    for (let i = nameRdependsStart[id] as number; i < end; i++) {
      const id0 = nameRdepends[i] as number;
      if (!seen[id0]) continue;
      reevaluateDepsOf[id0] = 1;
      queueDirty(id0);
    }
  };
  const reevaluateReverseInstallIf = (name: NameNode) => {
    const rinstallIf = name.rinstallIf;
    for (let i = 0; i < rinstallIf.length; i++) {
      const id0 = (rinstallIf[i] as NameNode).id;
      if (!seen[id0] || noIifOf[id0]) continue;
      reevaluateIifOf[id0] = 1;
      queueDirty(id0);
    }
  };
  const reevaluateReverseInstallIfPkg = (pkg: PackageNode) => {
    reevaluateReverseInstallIf(pkg.name);
    for (const d of pkg.provides) reevaluateReverseInstallIf(d.name);
  };
  const disqualify = (pkg: PackageNode) => {
    selectable[pkg.id] = 0;
    reevaluateReverseDeps(pkg.name);
    for (const d of pkg.provides) reevaluateReverseDeps(d.name);
    reevaluateReverseInstallIfPkg(pkg);
  };

  const dependencySatisfiable = (pkg: PackageNode, dep: Dep): boolean => {
    const id = dep.name.id;
    if (locked[id]) return isProvided(pkg, dep, chosenOf[id] ?? null);
    if (requirers[id] === 0 && isProvided(pkg, dep, null)) return true;
    for (const p of dep.name.providers) {
      if (isSelectable(p.pkg.id) && isProvided(pkg, dep, p)) return true;
    }
    return false;
  };

  /** Pinning bits of a package's tags. */
  const tagsOf = (pid: number): number => {
    if (onlyUntagged) return (pkgFlags[pid] as number) & PKG_UNTAGGED ? 1 : 0;
    const tags = (packages[pid] as PackageNode).tags;
    let bits = 0;
    for (let i = 0; i < tags.length; i++) bits |= tagBits[tags[i] as number] ?? 0;
    return bits;
  };

  // apk's discover_name, over the flat graph. Package usability is left
  // UNKNOWN until the pass looks at it (most discovered packages are only
  // reached through install_if rules and never considered).
  const discoverName = (id: number) => {
    if (seen[id]) return;
    seen[id] = 1;
    if (id >= universeNames) {
      // a name only the world uses: no providers, nothing mentions it
      noIifOf[id] = 1;
      orderId[id] = requestedOf[id] ? ++orderCounter : ++orderCounter | (1 << 31);
      return;
    }
    const first = providerStart[id] as number;
    const end = providerStart[id + 1] as number;
    for (let i = first; i < end; i++) {
      const pid = providerPkg[i] as number;
      if (!pkgSeen[pid]) {
        pkgSeen[pid] = 1;
        selectable[pid] = UNKNOWN;
        const flags = pkgFlags[pid] as number;
        iifFailed[pid] = flags & PKG_NO_IIF ? 1 : 0;
        const preferred = flags & PKG_TAG_PREFERRED ? 1 : 0;
        tagPreferred[pid] = preferred;
        tagOk[pid] = preferred;
        pkgTags[pid] = tagsOf(pid);
        const dependEnd = dependStart[pid + 1] as number;
        for (let j = dependStart[pid] as number; j < dependEnd; j++) {
          discoverName(depend[j] as number);
        }
      }
    }
    const flags = nameFlags[id] as number;
    noIifOf[id] = flags & NAME_NO_IIF ? 1 : 0;
    const rinstallIfEnd = nameRinstallIfStart[id + 1] as number;
    for (let i = nameRinstallIfStart[id] as number; i < rinstallIfEnd; i++) {
      discoverName(nameRinstallIf[i] as number);
    }
    for (let k = first; k < end; k++) {
      // Same walk as apk, without rescanning what nested walks already saw:
      // a package with hundreds of provides would otherwise cost n².
      const pid = providerPkg[k] as number;
      const own = pkgName[pid] as number;
      const rFirst = nameRinstallIfStart[own] as number;
      const rCount = (nameRinstallIfStart[own + 1] as number) - rFirst;
      for (let i = rinstallIfCursor[pid] as number; i < rCount; i++) {
        const name0 = nameRinstallIf[rFirst + i] as number;
        if (!seen[name0]) discoverName(name0);
        if ((rinstallIfCursor[pid] as number) <= i) rinstallIfCursor[pid] = i + 1;
        else i = (rinstallIfCursor[pid] as number) - 1;
      }
      const pFirst = provideStart[pid] as number;
      const pCount = (provideStart[pid + 1] as number) - pFirst;
      for (let i = providesCursor[pid] as number; i < pCount; i++) {
        const name0 = provide[pFirst + i] as number;
        if (!seen[name0]) discoverName(name0);
        if ((providesCursor[pid] as number) <= i) providesCursor[pid] = i + 1;
        else i = (providesCursor[pid] as number) - 1;
      }
    }
    // apk keeps this in a signed int: a name nobody asked for (bit 31) sorts
    // behind the requested ones, a name with a real package (bit 30) ahead.
    let order = ++orderCounter;
    if (!requestedOf[id]) order |= 1 << 31;
    if (flags & NAME_HAS_REAL) order |= 1 << 30;
    orderId[id] = order;
    for (let k = first; k < end; k++) {
      const pid = providerPkg[k] as number;
      const iifEnd = installIfStart[pid + 1] as number;
      for (let j = installIfStart[pid] as number; j < iifEnd; j++) {
        discoverName(pkgInstallIf[j] as number);
      }
    }
  };

  const nameRequirersChanged = (name: NameNode) => {
    queueUnresolved(name.id, false);
    reevaluateReverseInstallIf(name);
    queueDirty(name.id);
  };

  const inherit = (pkg: PackageNode, parent: PackageNode | null) => {
    const pid = pkg.id;
    if (parent !== null) {
      pinningAllowed[pid] = (pinningAllowed[pid] as number) | (pinningAllowed[parent.id] as number);
    } else {
      pinningAllowed[pid] = (pinningAllowed[pid] as number) | pinningInherit;
      pinningPreferred[pid] = pinningInherit;
      tagPreferred[pid] = ((pkgTags[pid] as number) & pinningInherit) !== 0 ? 1 : 0;
    }
    if ((pkgTags[pid] as number) & (pinningAllowed[pid] as number)) tagOk[pid] = 1;
  };

  const applyConstraint = (parent: PackageNode | null, dep: Dep) => {
    const name = dep.name;
    const id = name.id;
    if (!isConflict(dep)) {
      requirers[id] = (requirers[id] as number) + 1;
      if (requirers[id] === 1) nameRequirersChanged(name);
    }
    for (const p of name.providers) {
      const pid = p.pkg.id;
      const provided = isProvided(parent, dep, p);
      if (!provided) conflicts[pid] = (conflicts[pid] as number) + 1;
      if ((conflicts[pid] as number) > 0 && isSelectable(pid)) disqualify(p.pkg);
      if (provided) inherit(p.pkg, parent);
    }
  };

  const excludeNonProviders = (name: NameNode, mustProvide: NameNode, skipVirtuals: boolean) => {
    if (name === mustProvide) return;
    for (const p of name.providers) {
      if (p.pkg.name === mustProvide || !isSelectable(p.pkg.id)) continue;
      if (skipVirtuals && p.version === null) continue;
      let keep = false;
      for (const d of p.pkg.provides) {
        if (d.name === mustProvide || (skipVirtuals && d.version === null)) {
          keep = true;
          break;
        }
      }
      if (!keep) disqualify(p.pkg);
    }
  };

  const mergeIndex = (index: Int32Array, id: number, n: number) => {
    if (index[id] !== n) return false;
    index[id] = n + 1;
    return true;
  };
  const mergeIndexComplete = (index: Int32Array, id: number, n: number) => {
    const done = index[id] === n;
    index[id] = 0;
    return done;
  };

  const isAutoSelectable = (p: Provider) =>
    p.version !== null || p.pkg.priority !== 0 || (requirers[p.pkg.name.id] as number) > 0;

  const reconsiderName = (name: NameNode) => {
    const id = name.id;
    const reevaluateDeps = reevaluateDepsOf[id] === 1;
    const reevaluateIif = reevaluateIifOf[id] === 1;
    reevaluateDepsOf[id] = 0;
    reevaluateIifOf[id] = 0;
    let firstCandidate: PackageNode | null = null;
    let numOptions = 0;
    let numTagNotOk = 0;
    let hasIif = false;
    let noIif = true;
    let hasAutoSelectable = false;
    let reevaluate = false;

    for (const p of name.providers) {
      const pkg = p.pkg;
      const pid = pkg.id;
      dependenciesMerged[pid] = 0;
      if (reevaluateDeps) {
        if (!isSelectable(pid)) continue;
        for (const dep of pkg.depends) {
          if (!dependencySatisfiable(pkg, dep)) {
            disqualify(pkg);
            break;
          }
        }
      }
      if (!isSelectable(pid)) continue;
      if (reevaluateIif && !iifTriggered[pid] && !iifFailed[pid]) {
        iifTriggered[pid] = 1;
        iifFailed[pid] = 0;
        for (const dep of pkg.installIf) {
          const did = dep.name.id;
          if (!locked[did]) {
            if (isConflict(dep)) {
              iifNeeded[did] = 1;
              queueUnresolved(did, false);
            }
            iifTriggered[pid] = 0;
            iifFailed[pid] = 0;
            break;
          }
          if (!isProvided(pkg, dep, chosenOf[did] ?? null)) {
            iifTriggered[pid] = 0;
            iifFailed[pid] = 1;
            break;
          }
        }
      }
      if (reevaluateIif && iifTriggered[pid]) {
        for (const dep of pkg.installIf) inherit(pkg, chosenOf[dep.name.id]?.pkg ?? null);
      }
      hasIif = hasIif || iifTriggered[pid] === 1;
      noIif = noIif && iifFailed[pid] === 1;
      hasAutoSelectable = hasAutoSelectable || iifTriggered[pid] === 1;

      if (requirers[id] === 0) continue;

      dependenciesMerged[pid] = 1;
      if (firstCandidate === null) firstCandidate = pkg;
      for (const dep of pkg.depends) {
        if (!isConflict(dep)) mergeIndex(mergeDepends, dep.name.id, numOptions);
      }
      const own = pkg.name.id;
      if (mergeIndex(mergeProvides, own, numOptions)) {
        if (p.version === null) hasVirtualProvides[own] = 1;
      }
      for (const dep of pkg.provides) {
        const did = dep.name.id;
        if (mergeIndex(mergeProvides, did, numOptions)) {
          if (dep.version === null) hasVirtualProvides[did] = 1;
        }
      }
      if (!tagOk[pid]) numTagNotOk++;
      numOptions++;
      if (!hasAutoSelectable && isAutoSelectable(p)) hasAutoSelectable = true;
    }
    hasOptions[id] = numOptions > 1 || numTagNotOk > 0 ? 1 : 0;
    hasIifOf[id] = hasIif ? 1 : 0;
    noIifOf[id] = noIif ? 1 : 0;
    if (hasAutoSelectable !== (hasAutoSelectableOf[id] === 1)) {
      hasAutoSelectableOf[id] = hasAutoSelectable ? 1 : 0;
      reevaluate = true;
    }

    if (firstCandidate !== null) {
      const pkg = firstCandidate;
      for (const p of name.providers) {
        dependenciesUsed[p.pkg.id] = dependenciesMerged[p.pkg.id] as number;
      }
      if (numOptions === 1) {
        for (const dep of pkg.depends) {
          if (mergeIndexComplete(mergeDepends, dep.name.id, numOptions)) {
            applyConstraint(pkg, dep);
          }
        }
      } else {
        for (const dep of pkg.depends) {
          const did = dep.name.id;
          if (mergeIndexComplete(mergeDepends, did, numOptions) && requirers[did] === 0) {
            requirers[did] = (requirers[did] as number) + 1;
            nameRequirersChanged(dep.name);
            for (const p of dep.name.providers) inherit(p.pkg, pkg);
          }
        }
      }
      const own = pkg.name.id;
      if (mergeIndexComplete(mergeProvides, own, numOptions)) {
        excludeNonProviders(pkg.name, name, hasVirtualProvides[own] === 1);
      }
      for (const dep of pkg.provides) {
        const did = dep.name.id;
        if (mergeIndexComplete(mergeProvides, did, numOptions)) {
          excludeNonProviders(dep.name, name, hasVirtualProvides[did] === 1);
        }
      }
      hasVirtualProvides[own] = 0;
      for (const dep of pkg.provides) hasVirtualProvides[dep.name.id] = 0;
    }

    reverseDepsDone[id] = 1;
    if (id < universeNames) {
      const end = nameRdependsStart[id + 1] as number;
      for (let i = nameRdependsStart[id] as number; i < end; i++) {
        const id0 = nameRdepends[i] as number;
        if (seen[id0] && !locked[id0]) {
          reverseDepsDone[id] = 0;
          break;
        }
      }
    }
    queueUnresolved(id, reevaluate);
  };

  const compareProviders = (a: Provider, b: Provider | null): number => {
    if (b === null) return 1;
    const ia = a.pkg.id;
    const ib = b.pkg.id;
    let r = isSelectable(ia) - isSelectable(ib);
    if (r) return r;
    r = (dependenciesUsed[ia] as number) - (dependenciesUsed[ib] as number);
    if (r) return r;
    r = (conflicts[ib] as number) - (conflicts[ia] as number);
    if (r) return r;
    r = (tagOk[ia] as number) - (tagOk[ib] as number);
    if (r) return r;
    r = (tagPreferred[ia] as number) - (tagPreferred[ib] as number);
    if (r) return r;
    let cmp = compareMask(a.version, b.version, false);
    if (cmp === LESS) return -1;
    if (cmp === GREATER) return 1;
    if (a.pkg.name === b.pkg.name) {
      cmp = compareMask(a.pkg.info.version, b.pkg.info.version, false);
      if (cmp === LESS) return -1;
      if (cmp === GREATER) return 1;
    }
    r = a.pkg.priority - b.pkg.priority;
    if (r) return r;
    r = isSelectable(ia) - isSelectable(ib);
    if (r) return r;
    // the most preferred repository holding each (apk: ffs of the repository mask)
    return (b.pkg.repositories[0] as number) - (a.pkg.repositories[0] as number);
  };

  const assignName = (name: NameNode, p: Provider | null) => {
    const id = name.id;
    if (locked[id]) {
      const current = chosenOf[id] ?? null;
      if ((p === null || p.version === null) && (current === null || current.version === null)) {
        return;
      }
      markError(p?.pkg ?? null);
      markError(current?.pkg ?? null);
      return;
    }
    locked[id] = 1;
    chosenOf[id] = p;
    listRemove(id);
    dirtyRemove(id);
    if (p !== null && requirers[id] === 0 && iifTriggered[p.pkg.id]) {
      for (const dep of p.pkg.installIf) {
        if (!locked[dep.name.id]) applyConstraint(p.pkg, dep);
      }
    }
    for (const p0 of name.providers) {
      if (p !== null && p0.pkg === p.pkg) continue;
      if ((p === null || p.version === null) && p0.version === null) continue;
      disqualify(p0.pkg);
    }
    reevaluateReverseDeps(name);
    if (p !== null) reevaluateReverseInstallIfPkg(p.pkg);
    else reevaluateReverseInstallIf(name);
  };

  const selectPackage = (name: NameNode) => {
    const id = name.id;
    let chosen: Provider | null = null;
    if ((requirers[id] as number) > 0 || hasIifOf[id]) {
      for (const p of name.providers) {
        const pid = p.pkg.id;
        if (requirers[id] === 0 && (!iifTriggered[pid] || !tagOk[pid] || !isSelectable(pid))) {
          continue;
        }
        if (!isAutoSelectable(p)) continue;
        if (compareProviders(p, chosen) > 0) chosen = p;
      }
    }
    if (chosen !== null) {
      const pkg = chosen.pkg;
      if (!isSelectable(pkg.id) || !tagOk[pkg.id]) markError(pkg);
      assignName(pkg.name, { pkg, version: pkg.info.version });
      for (const d of pkg.provides) assignName(d.name, { pkg, version: d.version });
      for (const d of pkg.depends) applyConstraint(pkg, d);
    } else {
      assignName(name, null);
      if ((requirers[id] as number) > 0) errors++;
    }
  };

  // ---- the changeset, in apk's install order
  const changes: PackageNode[] = [];
  const getTag = (pkg: PackageNode): number => {
    // the first tag (by id) the package may come from and is found in
    const mask = (pinningAllowed[pkg.id] as number) & (pkgTags[pkg.id] as number);
    if (mask === 0) return 0;
    return bitTags[31 - Math.clz32(mask & -mask)] ?? 0;
  };
  const csetGenDep = (parent: PackageNode | null, dep: Dep) => {
    const chosen = chosenOf[dep.name.id] ?? null;
    const pkg = chosen?.pkg ?? null;
    if (!isProvided(parent, dep, chosen)) markError(parent);
    csetGenNameChange(dep.name);
    if (pkg !== null && error[pkg.id]) markError(parent);
  };
  const csetCheckInstallByIif = (name: NameNode) => {
    const id = name.id;
    const pkg = chosenOf[id]?.pkg ?? null;
    if (pkg === null || !seen[id] || changesetProcessed[id]) return;
    for (const dep of pkg.installIf) {
      const did = dep.name.id;
      if (!isConflict(dep) && !changesetProcessed[did]) return;
      if (!isProvided(pkg, dep, chosenOf[did] ?? null)) return;
    }
    csetGenNameChange(name);
  };
  const csetGenNameChange = (name: NameNode) => {
    const id = name.id;
    if (changesetProcessed[id]) return;
    changesetProcessed[id] = 1;
    const pkg = chosenOf[id]?.pkg ?? null;
    if (pkg === null) return;
    if (inChangeset[pkg.id]) return;
    inChangeset[pkg.id] = 1;
    changesetProcessed[pkg.name.id] = 1;
    for (const d of pkg.provides) changesetProcessed[d.name.id] = 1;
    for (const d of pkg.depends) csetGenDep(pkg, d);
    changes.push(pkg);
    for (const name0 of pkg.name.rinstallIf) csetCheckInstallByIif(name0);
    for (const d of pkg.provides)
      for (const name0 of d.name.rinstallIf) csetCheckInstallByIif(name0);
  };

  // ---- the solve
  for (const entry of world) if (!entry.broken) discoverName(entry.dep.name.id);
  for (const entry of world) {
    if (entry.broken) continue;
    pinningInherit = tagBits[entry.tagId] ?? 0;
    applyConstraint(null, entry.dep);
  }
  pinningInherit = 0;
  for (;;) {
    while (dirtyHead !== -1) {
      const id = dirtyHead;
      dirtyRemove(id);
      reconsiderName(nameList[id] as NameNode);
    }
    let id = heads[1] as number;
    if (id === -1) id = heads[2] as number;
    if (id === -1) id = heads[3] as number;
    if (id === -1) break;
    listRemove(id);
    selectPackage(nameList[id] as NameNode);
  }
  for (const entry of world) csetGenDep(null, entry.dep);

  return {
    errors,
    changes: changes.map((pkg) => ({ pkg, tagId: getTag(pkg), error: error[pkg.id] === 1 })),
    worldFailed: world.map((entry) => {
      const chosen = chosenOf[entry.dep.name.id] ?? null;
      return chosen === null || error[chosen.pkg.id] === 1;
    }),
  };
}
