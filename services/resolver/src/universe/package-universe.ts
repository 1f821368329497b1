import type { Universe } from "@tailor/solver";
import { createUniverse } from "@tailor/solver";
import type { KnownPackage } from "./known-package.js";

/** The compiled universe of one arch at one moment; immutable. */
export interface ArchSnapshot {
  readonly arch: string;
  readonly universe: Universe;
  /** Increases with every rebuild of any arch: a cache key for derived results. */
  readonly generation: number;
  readonly updatedAt: Date;
  /** Every package by `name-version` (several when repositories share a version). */
  readonly byNameVersion: ReadonlyMap<string, readonly KnownPackage[]>;
  /** Every package by name. */
  readonly byName: ReadonlyMap<string, readonly KnownPackage[]>;
  readonly packageCount: number;
}

/** Options of {@link createPackageUniverse}. */
export interface PackageUniverseOptions {
  /**
   * Rebuilds of one arch happen at most this often; events in between are
   * coalesced into the next rebuild.
   * @default 100
   */
  readonly minRebuildIntervalMs?: number;
  /** Told after every rebuild (for logs and metrics). */
  readonly onRebuilt?: (snapshot: ArchSnapshot, durationMs: number) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * The resolver's in-memory package universe, one compiled {@link Universe}
 * per arch. Full loads replace everything at once; single packages from
 * events are applied to the source set and compiled in coalesced rebuilds.
 */
export interface PackageUniverse {
  /** True once the first full load finished. */
  readonly ready: boolean;
  /** Replaces every arch with `packages` and compiles them now. */
  replaceAll(packages: Iterable<KnownPackage>): void;
  /** Adds or replaces one package; its arch is rebuilt within the rebuild interval. */
  upsert(known: KnownPackage): void;
  /** Resolves once every pending rebuild ran. */
  settled(): Promise<void>;
  /** The current snapshot of `arch`, if the catalog has packages for it. */
  snapshot(arch: string): ArchSnapshot | undefined;
  /** Arches with a snapshot, sorted. */
  arches(): string[];
  /** Cancels pending rebuilds. */
  close(): void;
}

/** Creates an empty universe (not ready until {@link PackageUniverse.replaceAll}). */
export function createPackageUniverse(options: PackageUniverseOptions = {}): PackageUniverse {
  const minInterval = options.minRebuildIntervalMs ?? 100;
  const now = options.now ?? (() => new Date());
  const sources = new Map<string, Map<string, KnownPackage>>();
  const snapshots = new Map<string, ArchSnapshot>();
  const dirty = new Set<string>();
  let generation = 0;
  let ready = false;
  let lastRebuild = 0;
  let timer: NodeJS.Timeout | undefined;
  let waiters: (() => void)[] = [];

  function build(arch: string): void {
    const started = performance.now();
    const packages = [...(sources.get(arch)?.values() ?? [])];
    const byNameVersion = new Map<string, KnownPackage[]>();
    const byName = new Map<string, KnownPackage[]>();
    for (const known of packages) {
      push(byNameVersion, `${known.pkg.name}-${known.pkg.version}`, known);
      push(byName, known.pkg.name, known);
    }
    const snapshot: ArchSnapshot = {
      arch,
      universe: createUniverse(packages.map((known) => known.pkg)),
      generation: ++generation,
      updatedAt: now(),
      byNameVersion,
      byName,
      packageCount: packages.length,
    };
    snapshots.set(arch, snapshot);
    options.onRebuilt?.(snapshot, performance.now() - started);
  }

  function rebuildDirty(): void {
    timer = undefined;
    lastRebuild = performance.now();
    for (const arch of [...dirty].sort()) build(arch);
    dirty.clear();
    const done = waiters;
    waiters = [];
    for (const wake of done) wake();
  }

  function schedule(): void {
    if (timer !== undefined) return;
    const wait = Math.max(0, lastRebuild + minInterval - performance.now());
    timer = setTimeout(rebuildDirty, wait);
  }

  return {
    get ready() {
      return ready;
    },
    replaceAll(packages) {
      sources.clear();
      for (const known of packages) {
        let arch = sources.get(known.arch);
        if (arch === undefined) {
          arch = new Map();
          sources.set(known.arch, arch);
        }
        arch.set(known.key, known);
      }
      for (const arch of snapshots.keys()) if (!sources.has(arch)) snapshots.delete(arch);
      for (const arch of [...sources.keys()].sort()) dirty.add(arch);
      if (timer !== undefined) clearTimeout(timer);
      rebuildDirty();
      ready = true;
    },
    upsert(known) {
      let arch = sources.get(known.arch);
      if (arch === undefined) {
        arch = new Map();
        sources.set(known.arch, arch);
      }
      arch.set(known.key, known);
      dirty.add(known.arch);
      schedule();
    },
    settled() {
      if (timer === undefined) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    snapshot(arch) {
      return snapshots.get(arch);
    },
    arches() {
      return [...snapshots.keys()].sort();
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const done = waiters;
      waiters = [];
      for (const wake of done) wake();
    },
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
