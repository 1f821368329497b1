import { setTimeout as sleep } from "node:timers/promises";

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /**
   * How long to keep polling before failing.
   * @default 5000
   */
  timeoutMs?: number | undefined;
  /**
   * Pause between polls.
   * @default 50
   */
  intervalMs?: number | undefined;
  /**
   * Start of the error message on timeout.
   * @default "waitFor timed out"
   */
  message?: string | undefined;
}

/**
 * Polls `fn` until it returns something other than undefined (or `false`, so a
 * predicate such as `() => rows.length === 2` waits too) and resolves to that.
 * A throw counts as "not yet", so assertions can be polled; the last one
 * becomes the cause of the timeout error.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const message = `${options.message ?? "waitFor timed out"} (after ${timeoutMs} ms, ${attempts} attempts)`;
  throw lastError === undefined
    ? new Error(message)
    : new Error(
        `${message}: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
        {
          cause: lastError,
        },
      );
}
