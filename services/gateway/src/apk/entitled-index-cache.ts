import type { EntitledIndex } from "./entitled-index.js";
import type { ApkOrganization } from "./repository-key.js";

/** Per (organization, arch) memory of built indexes. */
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
}

/** Options of {@link createEntitledIndexCache}. */
export interface EntitledIndexCacheOptions {
  /** How long a built index is reused; 0 builds on every request. */
  readonly ttlSeconds: number;
  readonly now: () => Date;
  /** Indexes kept at most; the oldest are dropped first. @default 1000 */
  readonly maxEntries?: number;
}

/**
 * Keeps each organization's index for `ttlSeconds`, so a busy `apk update`
 * costs one EntitledPackages and one catalog listing per window; a grant or
 * purchase shows up once the window has passed. Requests arriving while an
 * index is being built share that build.
 */
export function createEntitledIndexCache(options: EntitledIndexCacheOptions): EntitledIndexCache {
  const ttlMs = options.ttlSeconds * 1000;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, { startedAt: number; index: Promise<EntitledIndex> }>();
  return {
    get(org, arch, build) {
      const key = `${org.id}\n${arch}`;
      const now = options.now().getTime();
      const cached = entries.get(key);
      if (cached !== undefined && now - cached.startedAt < ttlMs) return cached.index;
      const index = build();
      if (ttlMs <= 0) return index;
      const entry = { startedAt: now, index };
      entries.delete(key);
      entries.set(key, entry);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      index.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return index;
    },
  };
}
