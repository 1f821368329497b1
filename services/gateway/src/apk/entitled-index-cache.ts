import type { IndexEntry } from "@tailor/apk";
import type { EntitledIndex } from "./entitled-index.js";
import type { ApkOrganization } from "./repository-key.js";

/** Per (organization, arch) memory of built indexes, bounded in count, bytes and age. */
export interface EntitledIndexCache {
  /**
   * The index of (org, arch) built less than the cache window ago (or being
   * built), else the one `build` makes now. A failed build is not kept.
   */
  get(
    org: ApkOrganization,
    arch: string,
    build: () => Promise<EntitledIndex>,
  ): Promise<EntitledIndex>;
  /** Indexes held (built or being built). */
  readonly size: number;
  /** Estimated memory of the built indexes held, in bytes (see {@link estimatedIndexBytes}). */
  readonly bytes: number;
  /** Stops the sweep timer; the cache still answers, sweeping on use. */
  close(): void;
}

/** Options of {@link createEntitledIndexCache}. */
export interface EntitledIndexCacheOptions {
  /** How long a built index is reused; 0 builds on every request. */
  readonly ttlSeconds: number;
  readonly now: () => Date;
  /** Indexes kept at most; the oldest are dropped first. @default 1000 */
  readonly maxEntries?: number;
  /**
   * Estimated bytes of built indexes kept at most; the oldest are dropped
   * first, and an index larger than this alone is served but not kept.
   * @default DEFAULT_MAX_INDEX_CACHE_BYTES
   */
  readonly maxBytes?: number;
}

/**
 * Memory the index cache may hold by default: a few dozen organizations with
 * a large upstream mirror entitled, far more with small hosted repositories.
 * @default 256 MiB
 */
export const DEFAULT_MAX_INDEX_CACHE_BYTES = 256 * 1024 * 1024;

/** The sweep timer runs once per window, at least this often apart. */
const MIN_SWEEP_INTERVAL_MS = 1_000;

/** Rough per-entry overhead (objects, map slots, numbers) beside the strings themselves. */
const ENTRY_OVERHEAD_BYTES = 400;

/**
 * A rough size of `index` in memory: its strings (two bytes a character, as
 * V8 may store them) and a fixed overhead per entry. The signed archive kept
 * beside an index is smaller than its entries and is not counted.
 */
export function estimatedIndexBytes(index: EntitledIndex): number {
  let bytes = 0;
  for (const entry of index.entries) bytes += entryBytes(entry);
  // File names of the files map (the entries themselves are shared).
  for (const name of index.files.keys()) bytes += name.length * 2 + 64;
  return bytes;
}

function entryBytes(entry: IndexEntry): number {
  let chars = 0;
  for (const value of Object.values(entry)) {
    if (typeof value === "string") chars += value.length;
    else if (Array.isArray(value)) {
      for (const item of value) chars += typeof item === "string" ? item.length + 8 : 8;
    }
  }
  return ENTRY_OVERHEAD_BYTES + chars * 2;
}

interface CacheEntry {
  readonly key: string;
  readonly startedAt: number;
  readonly index: Promise<EntitledIndex>;
  /** Set once the build has finished. */
  bytes: number;
}

/**
 * Keeps each organization's index for `ttlSeconds`, so a busy `apk update`
 * costs one EntitledPackages and one catalog listing per window; a grant or
 * purchase shows up once the window has passed. Requests arriving while an
 * index is being built share that build. Expired indexes are dropped on
 * every use and by an unref'd timer once per window, so an organization that
 * stopped asking costs nothing after its window; the oldest go first when
 * the count or byte budget is exceeded.
 */
export function createEntitledIndexCache(options: EntitledIndexCacheOptions): EntitledIndexCache {
  const ttlMs = options.ttlSeconds * 1000;
  const maxEntries = options.maxEntries ?? 1000;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INDEX_CACHE_BYTES;
  // Insertion order is build order: the first entries expire first.
  const entries = new Map<string, CacheEntry>();
  let totalBytes = 0;

  function drop(entry: CacheEntry) {
    if (entries.get(entry.key) !== entry) return;
    entries.delete(entry.key);
    totalBytes -= entry.bytes;
  }

  function expired(entry: CacheEntry, now: number) {
    return now - entry.startedAt >= ttlMs;
  }

  /** Drops expired entries from the oldest on; stops at the first fresh one. */
  function sweep(now: number) {
    for (const entry of entries.values()) {
      if (!expired(entry, now)) break;
      drop(entry);
    }
  }

  /** Drops the oldest entries while over either budget. */
  function enforceBudgets() {
    for (const entry of entries.values()) {
      if (entries.size <= maxEntries && totalBytes <= maxBytes) break;
      drop(entry);
    }
  }

  const timer =
    ttlMs > 0
      ? setInterval(() => sweep(options.now().getTime()), Math.max(ttlMs, MIN_SWEEP_INTERVAL_MS))
      : undefined;
  // The sweep must not keep a stopping gateway alive.
  timer?.unref();

  return {
    get(org, arch, build) {
      const key = `${org.id}\n${arch}`;
      const now = options.now().getTime();
      sweep(now);
      const cached = entries.get(key);
      if (cached !== undefined && !expired(cached, now)) return cached.index;
      const index = build();
      if (ttlMs <= 0) return index;
      if (cached !== undefined) drop(cached);
      const entry: CacheEntry = { key, startedAt: now, index, bytes: 0 };
      entries.set(key, entry);
      enforceBudgets();
      index.then(
        (built) => {
          if (entries.get(key) !== entry) return;
          entry.bytes = estimatedIndexBytes(built);
          totalBytes += entry.bytes;
          enforceBudgets();
        },
        () => drop(entry),
      );
      return index;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return totalBytes;
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
