import type { Logger } from "@tailor/log";

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping threw).
 * A second signal while stopping exits at once, so a stuck stop never traps
 * an operator.
 * @returns a trigger that starts the same shutdown for another reason
 */
export function onShutdownSignal(
  logger: Logger,
  stop: () => Promise<void>,
): (reason: string) => void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal while stopping: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "stopping");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return handler;
}
