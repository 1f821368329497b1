/**
 * Wakes live log tails of this process as soon as the recorder stored a line
 * or a status for their build; tails also poll, so lines recorded by another
 * replica reach them too.
 */
export class LogNotifier {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Wakes every tail of `buildId`. */
  notify(buildId: string): void {
    const waiters = this.#waiters.get(buildId);
    if (waiters === undefined) return;
    this.#waiters.delete(buildId);
    for (const wake of waiters) wake();
  }

  /** Resolves on the next {@link notify} of `buildId`, after `timeoutMs`, or when `signal` aborts. */
  wait(buildId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(buildId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(buildId, waiters);
      }
      const set = waiters;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }
}
