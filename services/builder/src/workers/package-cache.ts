import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlobStore } from "@tailor/blob";

/**
 * A worker's content-addressed cache of package files: `<dir>/sha256/<hex>`,
 * filled from the blob store on first use, so a package is read from the
 * shared store once per machine rather than once per build.
 */
export interface PackageCache {
  /** Makes sure the blob is on local disk; returns its path. */
  ensure(blobDigest: string, signal?: AbortSignal): Promise<string>;
  /** Streams a cached file. */
  open(path: string): AsyncIterable<Uint8Array>;
}

/** Creates the cache under `dir`. */
export function createPackageCache(dir: string, blobs: BlobStore): PackageCache {
  const inFlight = new Map<string, Promise<string>>();
  let counter = 0;

  async function fill(blobDigest: string, signal?: AbortSignal): Promise<string> {
    const hex = blobDigest.replace(/^sha256:/, "");
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${blobDigest}`);
    const target = join(dir, "sha256", hex);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isFile() === true) return target;
    await mkdir(join(dir, "sha256"), { recursive: true });
    counter += 1;
    const temporary = join(dir, "sha256", `.${hex}.${process.pid}.${counter}.tmp`);
    try {
      const source = await blobs.get(blobDigest, signal === undefined ? {} : { signal });
      await pipeline(Readable.from(source), createWriteStream(temporary));
      // The rename is atomic: other workers see the whole file or none.
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return target;
  }

  return {
    ensure(blobDigest, signal) {
      let pending = inFlight.get(blobDigest);
      if (pending === undefined) {
        pending = fill(blobDigest, signal).finally(() => inFlight.delete(blobDigest));
        inFlight.set(blobDigest, pending);
      }
      return pending;
    },
    open(path) {
      return createReadStream(path);
    },
  };
}
