import type { Universe, UniversePackage } from "@tailor/solver";
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
  /**
   * Told when an event-driven rebuild of `arch` failed; the arch keeps its
   * previous snapshot and is rebuilt again with the next change.
   */
  readonly onRebuildFailed?: (arch: string, error: unknown) => void;
  /**
   * Builds the solver's universe of one arch (tests inject failures here).
   * @default createUniverse from @tailor/solver
   */
  readonly compile?: (packages: UniversePackage[]) => Universe;
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
  /**
   * Starts a full load: packages upserted from now on are kept aside and
   * applied again on top of the load's result by {@link replaceAll}, so an
   * event applied while the (slow) load was reading the catalog is not lost
   * when the load's older picture replaces everything. End it with
   * {@link LoadTicket.end} whether the load succeeded or not.
   */
  beginLoad(): LoadTicket;
  /**
   * Replaces every arch with `packages` (plus what was upserted since
   * `ticket` began) and compiles them now. Nothing changes when an arch
   * does not compile: the error is thrown and the previous snapshots stay.
   */
  replaceAll(packages: Iterable<KnownPackage>, ticket?: LoadTicket): void;
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

/** A full load in progress (see {@link PackageUniverse.beginLoad}). */
export interface LoadTicket {
  /** Stops keeping upserts aside for this load (idempotent). */
  end(): void;
}

/** Creates an empty universe (not ready until {@link PackageUniverse.replaceAll}). */
export function createPackageUniverse(options: PackageUniverseOptions = {}): PackageUniverse {
  const minInterval = options.minRebuildIntervalMs ?? 100;
  const compileUniverse =
    options.compile ?? ((packages: UniversePackage[]) => createUniverse(packages));
  const now = options.now ?? (() => new Date());
  const sources = new Map<string, Map<string, KnownPackage>>();
  const snapshots = new Map<string, ArchSnapshot>();
  const dirty = new Set<string>();
  let generation = 0;
  let ready = false;
  let lastRebuild = 0;
  let timer: NodeJS.Timeout | undefined;
  let waiters: (() => void)[] = [];
  // Upserts kept aside while at least one full load is open, by sequence number.
  let upsertSeq = 0;
  const openLoads = new Map<LoadTicket, number>();
  let upsertLog: { seq: number; known: KnownPackage }[] = [];

  /**
   * Compiles one arch's packages. Packages are given to the solver in one
   * canonical order (repository preference, then key), whatever order the
   * load and the events added them in: replicas (and one replica before and
   * after a reload) give the same answer to the same request.
   */
  function compile(arch: string, source: ReadonlyMap<string, KnownPackage>): ArchSnapshot {
    const started = performance.now();
    const packages = [...source.values()].sort(canonicalOrder);
    const byNameVersion = new Map<string, KnownPackage[]>();
    const byName = new Map<string, KnownPackage[]>();
    for (const known of packages) {
      push(byNameVersion, `${known.pkg.name}-${known.pkg.version}`, known);
      push(byName, known.pkg.name, known);
    }
    const snapshot: ArchSnapshot = {
      arch,
      universe: compileUniverse(packages.map((known) => known.pkg)),
      generation: ++generation,
      updatedAt: now(),
      byNameVersion,
      byName,
      packageCount: packages.length,
    };
    options.onRebuilt?.(snapshot, performance.now() - started);
    return snapshot;
  }

  function rebuildDirty(): void {
    timer = undefined;
    lastRebuild = performance.now();
    const arches = [...dirty].sort();
    dirty.clear();
    for (const arch of arches) {
      // Runs from a timer: a throw here would take the process down.
      try {
        snapshots.set(arch, compile(arch, sources.get(arch) ?? new Map()));
      } catch (error) {
        options.onRebuildFailed?.(arch, error);
      }
    }
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
    beginLoad() {
      const ticket: LoadTicket = {
        end() {
          openLoads.delete(ticket);
          const oldest = Math.min(...openLoads.values());
          upsertLog = upsertLog.filter((entry) => entry.seq > oldest);
        },
      };
      openLoads.set(ticket, upsertSeq);
      return ticket;
    },
    replaceAll(packages, ticket) {
      const next = new Map<string, Map<string, KnownPackage>>();
      for (const known of packages) add(next, known);
      const since = ticket === undefined ? undefined : openLoads.get(ticket);
      if (since !== undefined) {
        for (const entry of upsertLog) if (entry.seq > since) add(next, entry.known);
      }
      // Compile everything before changing anything: a failure leaves the universe as it was.
      const compiled = [...next.keys()]
        .sort()
        .map((arch) => compile(arch, next.get(arch) ?? new Map()));
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      dirty.clear();
      sources.clear();
      for (const [arch, source] of next) sources.set(arch, source);
      snapshots.clear();
      for (const snapshot of compiled) snapshots.set(snapshot.arch, snapshot);
      lastRebuild = performance.now();
      ready = true;
      const done = waiters;
      waiters = [];
      for (const wake of done) wake();
    },
    upsert(known) {
      add(sources, known);
      if (openLoads.size > 0) upsertLog.push({ seq: ++upsertSeq, known });
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

function add(map: Map<string, Map<string, KnownPackage>>, known: KnownPackage): void {
  let arch = map.get(known.arch);
  if (arch === undefined) {
    arch = new Map();
    map.set(known.arch, arch);
  }
  arch.set(known.key, known);
}

function canonicalOrder(a: KnownPackage, b: KnownPackage): number {
  const pa = a.pkg.repositoryPriority ?? Number.MAX_SAFE_INTEGER;
  const pb = b.pkg.repositoryPriority ?? Number.MAX_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
