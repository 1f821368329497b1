import type { DestinationStream, Level, Logger as PinoLogger } from "pino";
import { pino } from "pino";

/** A structured logger; pass it (or a child of it) into everything that logs. */
export type Logger = PinoLogger;

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Service name stamped on every line as `service`. */
  service: string;
  /**
   * Field the name is stamped as. A process that hosts several services (the
   * all-in-one) uses "process", so each service's child sets `service` once.
   * @default "service"
   */
  field?: "service" | "process";
  /**
   * Minimum level written.
   * @default process.env.TAILOR_LOG_LEVEL ?? "info"
   */
  level?: Level | "silent";
  /**
   * Human-readable coloured output instead of JSON lines.
   * @default true when stdout is a terminal and TAILOR_LOG_FORMAT is not "json"
   */
  pretty?: boolean;
  /** Where lines go (tests capture them here). @default stdout */
  destination?: DestinationStream;
}

const levels = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Reads the log level from TAILOR_LOG_LEVEL, falling back to "info" for unknown values. */
function levelFromEnv(): Level | "silent" {
  const raw = process.env.TAILOR_LOG_LEVEL?.toLowerCase();
  return raw !== undefined && levels.has(raw) ? (raw as Level | "silent") : "info";
}

function prettyByDefault(): boolean {
  const format = process.env.TAILOR_LOG_FORMAT?.toLowerCase();
  if (format === "json") return false;
  if (format === "pretty") return true;
  return process.stdout.isTTY === true;
}

/**
 * Creates the root logger of a process or of one service in it. Services take
 * children of it (`logger.child({ requestId })`); nothing logs through a
 * module-level global.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? levelFromEnv();
  const base = { [options.field ?? "service"]: options.service };
  if (options.destination !== undefined) {
    return pino({ level, base }, options.destination);
  }
  if (options.pretty ?? prettyByDefault()) {
    return pino({
      level,
      base,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
      },
    });
  }
  return pino({ level, base });
}

/** A logger that writes nothing, for unit tests of code that takes a logger. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}

/** Child logger for one service inside a process (the all-in-one runs six). */
export function forService(logger: Logger, service: string): Logger {
  return logger.child({ service });
}
