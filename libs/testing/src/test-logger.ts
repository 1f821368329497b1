import type { Logger } from "@tailor/log";
import { createLogger, createSilentLogger } from "@tailor/log";

/** Logger for tests: silent, unless TAILOR_TEST_LOG=1 (then debug, or TAILOR_LOG_LEVEL). */
export function testLogger(): Logger {
  if (process.env.TAILOR_TEST_LOG !== "1") return createSilentLogger();
  return process.env.TAILOR_LOG_LEVEL === undefined
    ? createLogger({ service: "test", level: "debug" })
    : createLogger({ service: "test" });
}
