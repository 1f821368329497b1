/** {@link LayoutFiles} on a directory of the local file system: the one I/O helper of this library. */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { digestHex } from "./digest.js";
import { DigestMismatchError, InvalidLayoutPathError } from "./errors.js";
import type { LayoutFiles } from "./oci-layout.js";

/**
 * Layout files under `dir` (created as needed). Every file is written to a
 * temporary name and renamed into place, so readers never see a partial
 * file; a blob whose content does not hash to its digest is discarded with
 * `DigestMismatchError`. Storing a blob that exists does not read its source.
 */
export function createDirectoryLayoutFiles(dir: string): LayoutFiles {
  const root = path.resolve(dir);
  const blobPath = (digest: string) => path.join(root, "blobs", "sha256", digestHex(digest));

  return {
    async writeFile(relativePath, bytes) {
      const target = resolveInside(root, relativePath);
      await writeAtomically(target, async (handle) => {
        await handle.writeFile(bytes);
      });
    },

    async writeBlob(digest, source) {
      const target = blobPath(digest);
      if (await isFile(target)) return;
      await writeAtomically(target, async (handle) => {
        const hash = createHash("sha256");
        const chunks = source instanceof Uint8Array ? [source] : source;
        for await (const chunk of chunks) {
          hash.update(chunk);
          await handle.write(chunk);
        }
        const actual = `sha256:${hash.digest("hex")}`;
        if (actual !== digest) throw new DigestMismatchError(digest, actual);
      });
    },

    async hasBlob(digest) {
      return isFile(blobPath(digest));
    },
  };
}

function resolveInside(root: string, relativePath: string): string {
  if (relativePath === "" || relativePath.includes("\0")) {
    throw new InvalidLayoutPathError(relativePath, "is empty or holds a NUL byte");
  }
  if (path.isAbsolute(relativePath)) throw new InvalidLayoutPathError(relativePath, "is absolute");
  if (relativePath.split(/[\\/]/).includes("..")) {
    throw new InvalidLayoutPathError(relativePath, 'climbs out of the layout with ".."');
  }
  return path.join(root, relativePath);
}

async function writeAtomically(
  target: string,
  write: (handle: Awaited<ReturnType<typeof open>>) => Promise<void>,
): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", 0o644);
  try {
    await write(handle);
    await handle.close();
    await rename(temporary, target);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw error;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
