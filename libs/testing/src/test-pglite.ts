import { rmSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "@tailor/db";
import { createDatabase } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { testLogger } from "./test-logger.js";

/** A PGlite database in its own temporary directory for one test. */
export interface TestPglite {
  /** The temporary data directory (under the OS temp directory). */
  dataDir: string;
  /** Already open on `dataDir`. */
  database: Database;
  /** Closes `database` and removes `dataDir`; safe to call twice. */
  cleanup(): Promise<void>;
}

// initdb inside PGlite takes seconds; copying an initialised, closed data
// directory and opening it takes a fraction of that. One template per process.
let template: Promise<string> | undefined;

const templatePrefix = "tailor-pglite-template-";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/**
 * Removes templates of test processes that are gone: test runners often end
 * workers with a signal, so their exit handler never ran.
 */
async function removeOrphanedTemplates(): Promise<void> {
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith(templatePrefix)) continue;
    const pid = Number(entry.slice(templatePrefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !isRunning(pid)) {
      await rm(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

function pgliteTemplate(logger: Logger): Promise<string> {
  template ??= (async () => {
    await removeOrphanedTemplates();
    const dataDir = join(tmpdir(), `${templatePrefix}${process.pid}`);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir);
    process.once("exit", () => rmSync(dataDir, { recursive: true, force: true }));
    const database = await createDatabase({ dataDir, logger });
    await database.close();
    return dataDir;
  })().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

/** Opens PGlite in a fresh temporary directory (a copy of an initialised template). */
export async function createTestPglite(
  options: { logger?: Logger | undefined } = {},
): Promise<TestPglite> {
  const logger = options.logger ?? testLogger();
  const source = await pgliteTemplate(logger);
  const dataDir = await mkdtemp(join(tmpdir(), "tailor-pglite-"));
  let database: Database;
  try {
    await cp(source, dataDir, { recursive: true });
    database = await createDatabase({ dataDir, logger });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  let cleaning: Promise<void> | undefined;
  return {
    dataDir,
    database,
    cleanup() {
      cleaning ??= database.close().finally(() => rm(dataDir, { recursive: true, force: true }));
      return cleaning;
    },
  };
}
