// Test-only setup for this package's own tests. @tailor/testing depends on
// @tailor/db, so importing it here would make a workspace cycle that turbo
// rejects; this is the same recipe in its smallest form.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSilentLogger } from "@tailor/log";
import type { Database } from "../src/index.js";
import { createDatabase, sql } from "../src/index.js";

/** A database opened for one test, with the function that removes it. */
export interface TestBackend {
  database: Database;
  /** Opens the same storage again (a second process start). */
  reopen(): Promise<Database>;
  cleanup(): Promise<void>;
}

const serverUrl =
  process.env.TAILOR_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh `tailor_test_<hex>` database on the test Postgres server, dropped by cleanup. */
export async function postgresBackend(): Promise<TestBackend> {
  const logger = createSilentLogger();
  const name = `tailor_test_${randomBytes(6).toString("hex")}`;
  const admin = await createDatabase({ url: serverUrl, logger, poolSize: 1 });
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.forSchema("public"));
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const open = () => createDatabase({ url: url.toString(), logger });
  const database = await open();
  return {
    database,
    reopen: open,
    async cleanup() {
      await database.close();
      const dropper = await createDatabase({ url: serverUrl, logger, poolSize: 1 });
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(
          dropper.forSchema("public"),
        );
      } finally {
        await dropper.close();
      }
    },
  };
}

// PGlite's initdb takes seconds; copying an initialised, closed directory is
// several times faster, so each test process initialises one template. It is
// named after the pid so templates of workers killed by a signal get removed.
let template: Promise<string> | undefined;
const templatePrefix = "tailor-db-template-";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM";
  }
}

function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    for (const entry of await readdir(tmpdir())) {
      const pid = Number(entry.slice(templatePrefix.length));
      if (entry.startsWith(templatePrefix) && Number.isInteger(pid) && !isRunning(pid)) {
        await rm(join(tmpdir(), entry), { recursive: true, force: true });
      }
    }
    const dataDir = join(tmpdir(), `${templatePrefix}${process.pid}`);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir);
    process.once("exit", () => rmSync(dataDir, { recursive: true, force: true }));
    const database = await createDatabase({ dataDir, logger: createSilentLogger() });
    await database.close();
    return dataDir;
  })();
  return template;
}

/** PGlite in a fresh temporary directory, removed by cleanup. */
export async function pgliteBackend(): Promise<TestBackend> {
  const logger = createSilentLogger();
  const dataDir = await mkdtemp(join(tmpdir(), "tailor-db-test-"));
  await cp(await pgliteTemplate(), dataDir, { recursive: true });
  const open = () => createDatabase({ dataDir, logger });
  const database = await open();
  return {
    database,
    reopen: open,
    async cleanup() {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Both engines, for `describe.each`. */
export const backends = [
  { kind: "postgres", create: postgresBackend },
  { kind: "pglite", create: pgliteBackend },
] as const;
