/** Counts failed authentications per key and says when a key must wait. */
export interface FailureLimiter {
  /** Seconds the key must still wait, or undefined when it may try. */
  blockedFor(key: string): number | undefined;
  /** Records one failure of `key`. */
  fail(key: string): void;
}

/** Options of {@link createFailureLimiter}. */
export interface FailureLimiterOptions {
  /** Failures allowed per window; the next attempt is refused until the window ends. */
  readonly limit: number;
  readonly windowMs: number;
  /** Keys tracked at most; the oldest windows are forgotten first. @default 100000 */
  readonly maxKeys?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Fixed-window failure counter: after `limit` failures inside one window a
 * key is refused until that window ends. Successes do not reset the count, so
 * a guesser cannot interleave a known-good credential to keep trying.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  const windows = new Map<string, { startedAt: number; failures: number }>();

  function current(key: string): { startedAt: number; failures: number } | undefined {
    const window = windows.get(key);
    if (window !== undefined && now() - window.startedAt >= options.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }

  return {
    blockedFor(key) {
      const window = current(key);
      if (window === undefined || window.failures < options.limit) return undefined;
      return Math.max(1, Math.ceil((window.startedAt + options.windowMs - now()) / 1000));
    },
    fail(key) {
      const window = current(key);
      if (window === undefined) {
        windows.set(key, { startedAt: now(), failures: 1 });
        if (windows.size > maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
      } else {
        window.failures += 1;
      }
    },
  };
}
