/** @tailor/log — pino loggers with `service`, request and build ids as fields. */

export type { Logger, LoggerOptions } from "./logger.js";
export { createLogger, createSilentLogger, forService } from "./logger.js";
