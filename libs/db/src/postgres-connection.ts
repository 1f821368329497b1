import type { Logger } from "@tailor/log";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";

/** A Kysely root over a pg Pool, plus a description of where it points that is safe to log. */
export interface PostgresConnection {
  readonly kysely: Kysely<unknown>;
  /** `user@host:port/database`, never the password. */
  readonly target: string;
}

/** Describes a connection URL for logs and errors without its password. */
export function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === "" ? "" : `${decodeURIComponent(parsed.username)}@`;
    const port = parsed.port === "" ? "5432" : parsed.port;
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    return `${user}${parsed.hostname}:${port}/${database}`;
  } catch {
    return "an unparsable DATABASE_URL";
  }
}

/** Opens a pg Pool behind Kysely; connects lazily, so the caller verifies with a query. */
export function openPostgres(options: {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  logger: Logger;
}): PostgresConnection {
  const target = describePostgresUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    // pg waits forever by default; a blackholed host should fail startup instead.
    connectionTimeoutMillis: options.connectTimeoutMs,
  });
  // An idle client losing its connection (server restart) is emitted here;
  // without a listener Node would crash the whole process.
  pool.on("error", (error) => {
    options.logger.warn({ err: error, target }, "idle Postgres connection failed");
  });
  return { kysely: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }), target };
}
