/**
 * One pass of apk-tools' solver (src/solver.c): discover names from the
 * world, propagate constraints, pick providers name by name in apk's queue
 * order, then generate the changeset in apk's install order. A fresh install:
 * nothing is installed beforehand.
 */
import type { Dep, Provider } from "./dependency.js";
import { compareMask, GREATER, isConflict, isProvided, LESS } from "./dependency.js";
import type { NameNode, PackageNode, UniverseData } from "./universe-types.js";

/** A world atom with where it comes from. */
export interface WorldDep {
  readonly dep: Dep;
  /** Index into the pass's tag table (0: untagged). */
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
  readonly data: UniverseData;
  readonly world: readonly WorldDep[];
  /** Tag names (with `@`) including tags the world names that no repository has. */
  readonly tags: readonly string[];
  readonly tagRepos: readonly number[];
  /** Names the user asked for (apk_solver_set_name_flags). */
  readonly requested: ReadonlySet<NameNode>;
  /** Whether a package may be installed at all (arch, entitlement, exclusions). */
  readonly usable: (pkg: PackageNode) => boolean;
}

/** Solver state of one name. */
export class NameState {
  seen = false;
  locked = false;
  chosen: Provider | null = null;
  requirers = 0;
  mergeDepends = 0;
  mergeProvides = 0;
  hasVirtualProvides = false;
  reevaluateDeps = false;
  reevaluateIif = false;
  hasIif = false;
  noIif = false;
  hasOptions = false;
  reverseDepsDone = false;
  hasAutoSelectable = false;
  iifNeeded = false;
  resolvenow = false;
  orderId = 0;
  changesetProcessed = false;
  /** Which unresolved list the name is on: 0 none, 1 resolvenow, 2 selectable, 3 unresolved. */
  list = 0;
  prev: NameNode | null = null;
  next: NameNode | null = null;
  dirty = false;
  dirtyPrev: NameNode | null = null;
  dirtyNext: NameNode | null = null;
}

/** Solver state of one package. */
export class PackageState {
  seen = false;
  selectable = false;
  iifFailed = false;
  iifTriggered = false;
  tagPreferred = false;
  tagOk = false;
  pinningAllowed = 1;
  pinningPreferred = 1;
  conflicts = 0;
  dependenciesMerged = false;
  dependenciesUsed = false;
  inChangeset = false;
  error = false;
  /** Discovery: entries of the package's rinstall_if / provides before these are seen. */
  rinstallIfCursor = 0;
  providesCursor = 0;
}

/** What a pass found. */
export interface PassResult {
  readonly errors: number;
  /** Packages in install order, each with the tag it is installed from. */
  readonly changes: readonly { readonly pkg: PackageNode; readonly tagId: number }[];
  readonly nameState: (name: NameNode) => NameState;
  readonly pkgState: (pkg: PackageNode) => PackageState;
}

interface List {
  head: NameNode | null;
  tail: NameNode | null;
}

/** Runs apk's solver once. */
export function runApkPass(options: PassOptions): PassResult {
  const { data, world, tagRepos, requested, usable } = options;
  const names: (NameState | undefined)[] = new Array(data.nameList.length);
  const pkgs: (PackageState | undefined)[] = new Array(data.packages.length);
  const ns = (name: NameNode): NameState => {
    let state = names[name.id];
    if (state === undefined) {
      state = new NameState();
      names[name.id] = state;
    }
    return state;
  };
  const ps = (pkg: PackageNode): PackageState => {
    let state = pkgs[pkg.id];
    if (state === undefined) {
      state = new PackageState();
      pkgs[pkg.id] = state;
    }
    return state;
  };
  const maskRepos = (mask: number): number => {
    let repos = 0;
    for (let i = 0; i < tagRepos.length; i++) if (mask & (1 << i)) repos |= tagRepos[i] ?? 0;
    return repos;
  };
  const defaultRepos = maskRepos(1);
  let errors = 0;
  let orderCounter = 0;
  let pinningInherit = 0;

  const dirty: List = { head: null, tail: null };
  const lists: List[] = [
    { head: null, tail: null },
    { head: null, tail: null },
    { head: null, tail: null },
    { head: null, tail: null },
  ];

  const listRemove = (name: NameNode) => {
    const s = ns(name);
    if (s.list === 0) return;
    const list = lists[s.list] as List;
    if (s.prev) ns(s.prev).next = s.next;
    else list.head = s.next;
    if (s.next) ns(s.next).prev = s.prev;
    else list.tail = s.prev;
    s.prev = s.next = null;
    s.list = 0;
  };
  const listAppend = (which: number, name: NameNode) => {
    const s = ns(name);
    const list = lists[which] as List;
    s.list = which;
    s.next = null;
    s.prev = list.tail;
    if (list.tail) ns(list.tail).next = name;
    else list.head = name;
    list.tail = name;
  };
  const listInsertOrdered = (which: number, name: NameNode) => {
    const s = ns(name);
    const list = lists[which] as List;
    let at = list.head;
    while (at !== null && s.orderId < ns(at).orderId) at = ns(at).next;
    if (at === null) {
      listAppend(which, name);
      return;
    }
    const atState = ns(at);
    s.list = which;
    s.next = at;
    s.prev = atState.prev;
    if (atState.prev) ns(atState.prev).next = name;
    else list.head = name;
    atState.prev = name;
  };
  const dirtyRemove = (name: NameNode) => {
    const s = ns(name);
    if (!s.dirty) return;
    if (s.dirtyPrev) ns(s.dirtyPrev).dirtyNext = s.dirtyNext;
    else dirty.head = s.dirtyNext;
    if (s.dirtyNext) ns(s.dirtyNext).dirtyPrev = s.dirtyPrev;
    else dirty.tail = s.dirtyPrev;
    s.dirtyPrev = s.dirtyNext = null;
    s.dirty = false;
  };

  const markError = (pkg: PackageNode | null) => {
    if (pkg === null) return;
    const s = ps(pkg);
    if (s.error) return;
    s.error = true;
    errors++;
  };

  const queueDirty = (name: NameNode) => {
    const s = ns(name);
    if (s.dirty || s.locked || (s.requirers === 0 && !s.reevaluateIif)) return;
    s.dirty = true;
    s.dirtyNext = null;
    s.dirtyPrev = dirty.tail;
    if (dirty.tail) ns(dirty.tail).dirtyNext = name;
    else dirty.head = name;
    dirty.tail = name;
  };

  const queueResolvenow = (s: NameState) =>
    s.reverseDepsDone && s.requirers > 0 && s.hasAutoSelectable && !s.hasOptions;

  const queueUnresolved = (name: NameNode, reevaluate: boolean) => {
    const s = ns(name);
    if (s.locked) return;
    if (s.list !== 0) {
      if (s.resolvenow) return;
      if (queueResolvenow(s)) s.resolvenow = true;
      else if (!reevaluate) return;
      listRemove(name);
    } else {
      if (s.requirers === 0 && !s.hasIif && !s.iifNeeded) return;
      s.resolvenow = queueResolvenow(s);
    }
    if (s.resolvenow) listAppend(1, name);
    else listInsertOrdered(s.hasAutoSelectable ? 2 : 3, name);
  };

  const reevaluateReverseDeps = (name: NameNode) => {
    for (const name0 of name.rdepends) {
      const s0 = ns(name0);
      if (!s0.seen) continue;
      s0.reevaluateDeps = true;
      queueDirty(name0);
    }
  };
  const reevaluateReverseInstallIf = (name: NameNode) => {
    for (const name0 of name.rinstallIf) {
      const s0 = ns(name0);
      if (!s0.seen || s0.noIif) continue;
      s0.reevaluateIif = true;
      queueDirty(name0);
    }
  };
  const reevaluateReverseInstallIfPkg = (pkg: PackageNode) => {
    reevaluateReverseInstallIf(pkg.name);
    for (const d of pkg.provides) reevaluateReverseInstallIf(d.name);
  };
  const disqualify = (pkg: PackageNode) => {
    ps(pkg).selectable = false;
    reevaluateReverseDeps(pkg.name);
    for (const d of pkg.provides) reevaluateReverseDeps(d.name);
    reevaluateReverseInstallIfPkg(pkg);
  };

  const dependencySatisfiable = (pkg: PackageNode, dep: Dep): boolean => {
    const s = ns(dep.name);
    if (s.locked) return isProvided(pkg, dep, s.chosen);
    if (s.requirers === 0 && isProvided(pkg, dep, null)) return true;
    for (const p of dep.name.providers) {
      if (ps(p.pkg).selectable && isProvided(pkg, dep, p)) return true;
    }
    return false;
  };

  const discoverName = (name: NameNode) => {
    const s = ns(name);
    if (s.seen) return;
    s.seen = true;
    s.noIif = true;
    let numVirtual = 0;
    for (const p of name.providers) {
      const pkg = p.pkg;
      const pst = ps(pkg);
      if (!pst.seen) {
        pst.seen = true;
        pst.pinningAllowed = 1;
        pst.pinningPreferred = 1;
        pst.selectable = usable(pkg);
        pst.iifFailed = pkg.installIf.length === 0;
        pst.tagPreferred = pkg.info.installedSize === 0 || (pkg.repos & defaultRepos) !== 0;
        pst.tagOk = pst.tagPreferred;
        for (const dep of pkg.depends) discoverName(dep.name);
      }
      s.noIif = s.noIif && pst.iifFailed;
      if (pkg.name !== name) numVirtual++;
    }
    for (const name0 of name.rinstallIf) discoverName(name0);
    for (const p of name.providers) {
      // Same walk as apk, without rescanning what nested walks already saw:
      // a package with hundreds of provides would otherwise cost n².
      const pst = ps(p.pkg);
      const rinstallIf = p.pkg.name.rinstallIf;
      for (let i = pst.rinstallIfCursor; i < rinstallIf.length; i++) {
        const name0 = rinstallIf[i] as NameNode;
        if (!ns(name0).seen) discoverName(name0);
        if (pst.rinstallIfCursor <= i) pst.rinstallIfCursor = i + 1;
        else i = pst.rinstallIfCursor - 1;
      }
      const provides = p.pkg.provides;
      for (let i = pst.providesCursor; i < provides.length; i++) {
        const name0 = (provides[i] as Dep).name;
        if (!ns(name0).seen) discoverName(name0);
        if (pst.providesCursor <= i) pst.providesCursor = i + 1;
        else i = pst.providesCursor - 1;
      }
    }
    // apk keeps this in a signed int: a name nobody asked for (bit 31) sorts
    // behind the requested ones, a name with a real package (bit 30) ahead.
    let order = ++orderCounter;
    if (!requested.has(name)) order |= 1 << 31;
    if (name.providers.length !== numVirtual) order |= 1 << 30;
    s.orderId = order | 0;
    for (const p of name.providers) for (const d of p.pkg.installIf) discoverName(d.name);
  };

  const nameRequirersChanged = (name: NameNode) => {
    queueUnresolved(name, false);
    reevaluateReverseInstallIf(name);
    queueDirty(name);
  };

  const inherit = (pkg: PackageNode, parent: PackageNode | null) => {
    const s = ps(pkg);
    if (parent !== null) {
      s.pinningAllowed |= ps(parent).pinningAllowed;
    } else {
      s.pinningAllowed |= pinningInherit;
      s.pinningPreferred = pinningInherit;
      s.tagPreferred = (pkg.repos & maskRepos(s.pinningPreferred)) !== 0;
    }
    if (pkg.repos & maskRepos(s.pinningAllowed)) s.tagOk = true;
  };

  const applyConstraint = (parent: PackageNode | null, dep: Dep) => {
    const name = dep.name;
    const s = ns(name);
    const conflict = isConflict(dep);
    if (!conflict) {
      s.requirers++;
      if (s.requirers === 1) nameRequirersChanged(name);
    }
    for (const p of name.providers) {
      const pst = ps(p.pkg);
      const provided = isProvided(parent, dep, p);
      if (!provided) pst.conflicts++;
      if (pst.selectable && pst.conflicts > 0) disqualify(p.pkg);
      if (provided) inherit(p.pkg, parent);
    }
  };

  const excludeNonProviders = (name: NameNode, mustProvide: NameNode, skipVirtuals: boolean) => {
    if (name === mustProvide) return;
    for (const p of name.providers) {
      if (p.pkg.name === mustProvide || !ps(p.pkg).selectable) continue;
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

  const mergeIndex = (s: NameState, key: "mergeDepends" | "mergeProvides", n: number) => {
    if (s[key] !== n) return false;
    s[key] = n + 1;
    return true;
  };
  const mergeIndexComplete = (s: NameState, key: "mergeDepends" | "mergeProvides", n: number) => {
    const done = s[key] === n;
    s[key] = 0;
    return done;
  };

  const isAutoSelectable = (p: Provider) =>
    p.version !== null || p.pkg.priority !== 0 || ns(p.pkg.name).requirers > 0;

  const reconsiderName = (name: NameNode) => {
    const s = ns(name);
    const reevaluateDeps = s.reevaluateDeps;
    const reevaluateIif = s.reevaluateIif;
    s.reevaluateDeps = false;
    s.reevaluateIif = false;
    let firstCandidate: PackageNode | null = null;
    let numOptions = 0;
    let numTagNotOk = 0;
    let hasIif = false;
    let noIif = true;
    let hasAutoSelectable = false;
    let reevaluate = false;

    for (const p of name.providers) {
      const pkg = p.pkg;
      const pst = ps(pkg);
      pst.dependenciesMerged = false;
      if (reevaluateDeps) {
        if (!pst.selectable) continue;
        for (const dep of pkg.depends) {
          if (!dependencySatisfiable(pkg, dep)) {
            disqualify(pkg);
            break;
          }
        }
      }
      if (!pst.selectable) continue;
      if (reevaluateIif && !pst.iifTriggered && !pst.iifFailed) {
        pst.iifTriggered = true;
        pst.iifFailed = false;
        for (const dep of pkg.installIf) {
          const ds = ns(dep.name);
          if (!ds.locked) {
            if (isConflict(dep)) {
              ds.iifNeeded = true;
              queueUnresolved(dep.name, false);
            }
            pst.iifTriggered = false;
            pst.iifFailed = false;
            break;
          }
          if (!isProvided(pkg, dep, ds.chosen)) {
            pst.iifTriggered = false;
            pst.iifFailed = true;
            break;
          }
        }
      }
      if (reevaluateIif && pst.iifTriggered) {
        for (const dep of pkg.installIf) inherit(pkg, ns(dep.name).chosen?.pkg ?? null);
      }
      hasIif = hasIif || pst.iifTriggered;
      noIif = noIif && pst.iifFailed;
      hasAutoSelectable = hasAutoSelectable || pst.iifTriggered;

      if (s.requirers === 0) continue;

      pst.dependenciesMerged = true;
      if (firstCandidate === null) firstCandidate = pkg;
      for (const dep of pkg.depends) {
        if (!isConflict(dep)) mergeIndex(ns(dep.name), "mergeDepends", numOptions);
      }
      const own = ns(pkg.name);
      if (mergeIndex(own, "mergeProvides", numOptions)) {
        own.hasVirtualProvides = own.hasVirtualProvides || p.version === null;
      }
      for (const dep of pkg.provides) {
        const ds = ns(dep.name);
        if (mergeIndex(ds, "mergeProvides", numOptions)) {
          ds.hasVirtualProvides = ds.hasVirtualProvides || dep.version === null;
        }
      }
      if (!pst.tagOk) numTagNotOk++;
      numOptions++;
      if (!hasAutoSelectable && isAutoSelectable(p)) hasAutoSelectable = true;
    }
    s.hasOptions = numOptions > 1 || numTagNotOk > 0;
    s.hasIif = hasIif;
    s.noIif = noIif;
    if (hasAutoSelectable !== s.hasAutoSelectable) {
      s.hasAutoSelectable = hasAutoSelectable;
      reevaluate = true;
    }

    if (firstCandidate !== null) {
      const pkg = firstCandidate;
      for (const p of name.providers) {
        const pst = ps(p.pkg);
        pst.dependenciesUsed = pst.dependenciesMerged;
      }
      if (numOptions === 1) {
        for (const dep of pkg.depends) {
          if (mergeIndexComplete(ns(dep.name), "mergeDepends", numOptions)) {
            applyConstraint(pkg, dep);
          }
        }
      } else {
        for (const dep of pkg.depends) {
          const s0 = ns(dep.name);
          if (mergeIndexComplete(s0, "mergeDepends", numOptions) && s0.requirers === 0) {
            s0.requirers++;
            nameRequirersChanged(dep.name);
            for (const p of dep.name.providers) inherit(p.pkg, pkg);
          }
        }
      }
      const own = ns(pkg.name);
      if (mergeIndexComplete(own, "mergeProvides", numOptions)) {
        excludeNonProviders(pkg.name, name, own.hasVirtualProvides);
      }
      for (const dep of pkg.provides) {
        const ds = ns(dep.name);
        if (mergeIndexComplete(ds, "mergeProvides", numOptions)) {
          excludeNonProviders(dep.name, name, ds.hasVirtualProvides);
        }
      }
      own.hasVirtualProvides = false;
      for (const dep of pkg.provides) ns(dep.name).hasVirtualProvides = false;
    }

    s.reverseDepsDone = true;
    for (const name0 of name.rdepends) {
      const s0 = ns(name0);
      if (s0.seen && !s0.locked) {
        s.reverseDepsDone = false;
        break;
      }
    }
    queueUnresolved(name, reevaluate);
  };

  const compareProviders = (a: Provider, b: Provider | null): number => {
    if (b === null) return 1;
    const sa = ps(a.pkg);
    const sb = ps(b.pkg);
    let r = Number(sa.selectable) - Number(sb.selectable);
    if (r) return r;
    r = Number(sa.dependenciesUsed) - Number(sb.dependenciesUsed);
    if (r) return r;
    r = sb.conflicts - sa.conflicts;
    if (r) return r;
    r = Number(sa.tagOk) - Number(sb.tagOk);
    if (r) return r;
    r = Number(sa.tagPreferred) - Number(sb.tagPreferred);
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
    r = Number(sa.selectable) - Number(sb.selectable);
    if (r) return r;
    return ffs(b.pkg.repos) - ffs(a.pkg.repos);
  };

  const assignName = (name: NameNode, p: Provider | null) => {
    const s = ns(name);
    if (s.locked) {
      if ((p === null || p.version === null) && (s.chosen === null || s.chosen.version === null)) {
        return;
      }
      markError(p?.pkg ?? null);
      markError(s.chosen?.pkg ?? null);
      return;
    }
    s.locked = true;
    s.chosen = p;
    listRemove(name);
    dirtyRemove(name);
    if (p !== null && s.requirers === 0 && ps(p.pkg).iifTriggered) {
      for (const dep of p.pkg.installIf) if (!ns(dep.name).locked) applyConstraint(p.pkg, dep);
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
    const s = ns(name);
    let chosen: Provider | null = null;
    if (s.requirers > 0 || s.hasIif) {
      for (const p of name.providers) {
        const pst = ps(p.pkg);
        if (s.requirers === 0 && (!pst.iifTriggered || !pst.tagOk || !pst.selectable)) continue;
        if (!isAutoSelectable(p)) continue;
        if (compareProviders(p, chosen) > 0) chosen = p;
      }
    }
    if (chosen !== null) {
      const pkg = chosen.pkg;
      const pst = ps(pkg);
      if (!pst.selectable || !pst.tagOk) markError(pkg);
      assignName(pkg.name, { pkg, version: pkg.info.version });
      for (const d of pkg.provides) assignName(d.name, { pkg, version: d.version });
      for (const d of pkg.depends) applyConstraint(pkg, d);
    } else {
      assignName(name, null);
      if (s.requirers > 0) errors++;
    }
  };

  // ---- the changeset, in apk's install order
  const changes: { pkg: PackageNode; tagId: number }[] = [];
  const getTag = (pkg: PackageNode): number => {
    const mask = ps(pkg).pinningAllowed;
    for (let i = 0; i < tagRepos.length; i++) {
      if (!(mask & (1 << i))) continue;
      if ((tagRepos[i] ?? 0) & pkg.repos) return i;
    }
    return 0;
  };
  const csetGenDep = (parent: PackageNode | null, dep: Dep) => {
    const s = ns(dep.name);
    const pkg = s.chosen?.pkg ?? null;
    if (!isProvided(parent, dep, s.chosen)) markError(parent);
    csetGenNameChange(dep.name);
    if (pkg !== null && ps(pkg).error) markError(parent);
  };
  const csetCheckInstallByIif = (name: NameNode) => {
    const s = ns(name);
    const pkg = s.chosen?.pkg ?? null;
    if (pkg === null || !s.seen || s.changesetProcessed) return;
    for (const dep of pkg.installIf) {
      const s0 = ns(dep.name);
      if (!isConflict(dep) && !s0.changesetProcessed) return;
      if (!isProvided(pkg, dep, s0.chosen)) return;
    }
    csetGenNameChange(name);
  };
  const csetGenNameChange = (name: NameNode) => {
    const s = ns(name);
    if (s.changesetProcessed) return;
    s.changesetProcessed = true;
    const pkg = s.chosen?.pkg ?? null;
    if (pkg === null) return;
    const pst = ps(pkg);
    if (pst.inChangeset) return;
    pst.inChangeset = true;
    ns(pkg.name).changesetProcessed = true;
    for (const d of pkg.provides) ns(d.name).changesetProcessed = true;
    for (const d of pkg.depends) csetGenDep(pkg, d);
    changes.push({ pkg, tagId: getTag(pkg) });
    for (const name0 of pkg.name.rinstallIf) csetCheckInstallByIif(name0);
    for (const d of pkg.provides)
      for (const name0 of d.name.rinstallIf) csetCheckInstallByIif(name0);
  };

  // ---- the solve
  for (const w of world) if (!w.broken) discoverName(w.dep.name);
  for (const w of world) {
    if (w.broken) continue;
    pinningInherit = 1 << w.tagId;
    applyConstraint(null, w.dep);
  }
  pinningInherit = 0;
  for (;;) {
    while (dirty.head !== null) {
      const name = dirty.head;
      dirtyRemove(name);
      reconsiderName(name);
    }
    const next = lists[1]?.head ?? lists[2]?.head ?? lists[3]?.head ?? null;
    if (next === null) break;
    listRemove(next);
    selectPackage(next);
  }
  for (const w of world) csetGenDep(null, w.dep);

  return { errors, changes, nameState: ns, pkgState: ps };
}

function ffs(mask: number): number {
  if (mask === 0) return 0;
  return 32 - Math.clz32(mask & -mask);
}
