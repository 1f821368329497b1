import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import { Kysely } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import { DatabaseError, describeCause } from "./errors.js";

/** A Kysely root over one embedded PGlite instance. */
export interface PgliteConnection {
  readonly kysely: Kysely<unknown>;
  /** Absolute data directory, or "memory://". */
  readonly dataDir: string;
  /** Marks the data directory free again once the instance is closed. */
  release(): void;
}

// PGlite is a single-process Postgres: two instances on one directory corrupt
// it. Guarding per process catches an all-in-one that opens a Database per
// service instead of sharing one across schemas.
const openDataDirs = new Set<string>();

function isInMemory(dataDir: string): boolean {
  return dataDir.startsWith("memory://");
}

/** Starts PGlite in `dataDir` (created if missing); "memory://" keeps everything in memory. */
export async function openPglite(dataDir: string): Promise<PgliteConnection> {
  const location = isInMemory(dataDir) ? dataDir : resolve(dataDir);
  if (!isInMemory(location)) {
    if (openDataDirs.has(location)) {
      throw new DatabaseError(
        `PGlite data directory ${location} is already open in this process; PGlite allows one instance per directory, so open one Database and share it across services with forSchema(schema)`,
      );
    }
    try {
      await mkdir(location, { recursive: true });
    } catch (error) {
      throw new DatabaseError(
        `Cannot create PGlite data directory ${location}: ${describeCause(error)}`,
        { cause: error },
      );
    }
    openDataDirs.add(location);
  }
  const release = () => {
    openDataDirs.delete(location);
  };
  try {
    const pglite = await PGlite.create(location, {
      // pg returns int8 (bigserial, count(*)) as strings; PGlite would return
      // numbers. Same types on both backends, so code tested on one runs on the other.
      parsers: { [types.INT8]: (value: string) => value },
    });
    return {
      kysely: new Kysely<unknown>({ dialect: new PGliteDialect(pglite) }),
      dataDir: location,
      release,
    };
  } catch (error) {
    release();
    throw new DatabaseError(`Cannot start PGlite in ${location}: ${describeCause(error)}`, {
      cause: error,
    });
  }
}
