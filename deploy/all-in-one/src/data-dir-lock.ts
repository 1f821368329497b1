import fs from "node:fs/promises";
import path from "node:path";

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = "DataDirLockedError";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `<dataDir>/tailor.pid` so two all-in-one processes never open the
 * same embedded database; a lock left by a dead process is taken over.
 * @returns a function that releases the lock
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, "tailor.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: "wx" });
      return async () => {
        await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt(await fs.readFile(file, "utf8").catch(() => ""), 10);
      if (Number.isInteger(pid) && isAlive(pid)) {
        throw new DataDirLockedError(
          `another Tailor (pid ${pid}) is running on ${dataDir}; stop it or set TAILOR_DATA_DIR to another directory`,
        );
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock ${file}`);
}
