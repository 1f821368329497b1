import { randomBytes } from "node:crypto";
import type { Database } from "@tailor/db";
import { createDatabase, sql } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { hasDockerEngine, startPostgresContainer } from "./containers.js";
import { describeCause, TestServiceUnavailableError, withoutPassword } from "./errors.js";
import { testLogger } from "./test-logger.js";

/** A fresh, empty Postgres database for one test (or one test file). */
export interface TestDatabase {
  /** Connection URL of the new database, for code that opens its own connection. */
  url: string;
  /** Already open on `url`. */
  database: Database;
  /** Closes `database` and drops the database (even if other connections are left open); safe to call twice. */
  cleanup(): Promise<void>;
}

const defaultServerUrl = "postgres://postgres@127.0.0.1:5432/postgres";

// A local server should answer at once; waiting longer only delays the hint.
const probeTimeoutMs = 5000;

function openAdmin(url: string, logger: Logger): Promise<Database> {
  return createDatabase({ url, logger, poolSize: 1, connectTimeoutMs: probeTimeoutMs });
}

/**
 * Connects to the test server: TAILOR_TEST_DATABASE_URL, else the default
 * local one, else (only when nothing is configured and Docker is there) a
 * postgres:16 container.
 */
async function openServer(logger: Logger): Promise<{ url: string; admin: Database }> {
  const configured = process.env.TAILOR_TEST_DATABASE_URL;
  const url = configured !== undefined && configured !== "" ? configured : defaultServerUrl;
  try {
    return { url, admin: await openAdmin(url, logger) };
  } catch (error) {
    const source =
      url === configured
        ? "from TAILOR_TEST_DATABASE_URL"
        : "the default; set TAILOR_TEST_DATABASE_URL to use another server";
    if (url !== configured && hasDockerEngine()) {
      try {
        const containerUrl = await startPostgresContainer();
        return { url: containerUrl, admin: await openAdmin(containerUrl, logger) };
      } catch (containerError) {
        throw new TestServiceUnavailableError(
          `No Postgres answered at ${withoutPassword(url)} (${source}): ${describeCause(error)}; starting a postgres:16 container with testcontainers also failed: ${describeCause(containerError)}`,
          { cause: containerError },
        );
      }
    }
    throw new TestServiceUnavailableError(
      `No Postgres answered at ${withoutPassword(url)} (${source}): ${describeCause(error)}. ` +
        "Start one that trusts local connections, e.g. `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16` " +
        "or a local postgresql service, or point TAILOR_TEST_DATABASE_URL at a server where the user may CREATE DATABASE.",
      { cause: error },
    );
  }
}

/**
 * Creates a database `tailor_test_<random>` on the test Postgres server
 * (TAILOR_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * and opens it. Falls back to a postgres:16 container only when no URL is
 * configured, the default server does not answer and a Docker engine exists;
 * otherwise throws TestServiceUnavailableError naming the URL tried.
 */
export async function createTestDatabase(
  options: { logger?: Logger | undefined } = {},
): Promise<TestDatabase> {
  const logger = options.logger ?? testLogger();
  const name = `tailor_test_${randomBytes(6).toString("hex")}`;
  const server = await openServer(logger);
  try {
    // CREATE DATABASE cannot run in a transaction; a plain query on the pool is not in one.
    await sql`create database ${sql.id(name)}`.execute(server.admin.forSchema("public"));
  } finally {
    await server.admin.close();
  }

  const target = new URL(server.url);
  target.pathname = `/${name}`;
  const url = target.toString();
  let database: Database;
  try {
    database = await createDatabase({ url, logger });
  } catch (error) {
    await dropDatabase(server.url, name, logger);
    throw error;
  }

  let cleaning: Promise<void> | undefined;
  return {
    url,
    database,
    cleanup() {
      cleaning ??= database.close().finally(() => dropDatabase(server.url, name, logger));
      return cleaning;
    },
  };
}

async function dropDatabase(serverUrl: string, name: string, logger: Logger): Promise<void> {
  const admin = await openAdmin(serverUrl, logger);
  try {
    // FORCE ends connections the test leaked, so cleanup never hangs on them.
    await sql`drop database if exists ${sql.id(name)} with (force)`.execute(
      admin.forSchema("public"),
    );
  } finally {
    await admin.close();
  }
}
