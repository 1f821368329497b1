import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { BlobDigest } from "./blob-digest.js";
import { digestHex } from "./blob-digest.js";
import type { BlobIngest, BlobSource } from "./blob-source.js";
import { putBlob } from "./blob-source.js";
import type { BlobInfo, BlobRange, BlobStore, GetOptions, PutOptions } from "./blob-store.js";
import { resolveBlobRange } from "./blob-store.js";
import { BlobError, BlobNotFoundError } from "./errors.js";

/** Options of {@link createDirectoryBlobStore}. */
export interface DirectoryBlobStoreOptions {
  /** Directory holding the blobs; created if missing. */
  root: string;
}

/**
 * Opens a blob store in a local directory: blob `sha256:<hex>` lives at
 * `<root>/sha256/<first 2 hex>/<hex>`; puts are written to `<root>/tmp/` and
 * renamed into place, so readers never see a partial blob. Several processes
 * may share the directory.
 */
export async function createDirectoryBlobStore(
  options: DirectoryBlobStoreOptions,
): Promise<BlobStore> {
  const root = path.resolve(options.root);
  try {
    await mkdir(path.join(root, "sha256"), { recursive: true });
    await mkdir(path.join(root, "tmp"), { recursive: true });
  } catch (error) {
    throw new BlobError(`cannot create the blob directory ${root}: ${describe(error)}`, {
      cause: error,
    });
  }
  return new DirectoryBlobStore(root);
}

class DirectoryBlobStore implements BlobStore {
  readonly kind = "directory";
  readonly description: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.description = `directory ${root}`;
  }

  /** Where blob `digest` lives; the digest is validated first, so it never escapes the root. */
  #blobPath(digest: BlobDigest): string {
    const hex = digestHex(digest);
    return path.join(this.#root, "sha256", hex.slice(0, 2), hex);
  }

  put(source: BlobSource, options: PutOptions = {}): Promise<BlobInfo> {
    return putBlob(this, source, options, (ingest) => this.#write(ingest));
  }

  async #write(ingest: BlobIngest): Promise<BlobInfo> {
    // A unique temp name per put, so concurrent puts of the same blob never share a file.
    const temp = path.join(this.#root, "tmp", `${randomUUID()}.partial`);
    let renamed = false;
    try {
      const handle = await open(temp, "wx");
      try {
        for await (const chunk of ingest.chunks()) {
          // A write may be partial; keep going until the whole chunk is on disk.
          for (let offset = 0; offset < chunk.byteLength; ) {
            const { bytesWritten } = await handle.write(chunk, offset);
            offset += bytesWritten;
          }
        }
        const info = ingest.finish();
        const final = this.#blobPath(info.digest);
        if (await exists(final)) return info;
        // Without the sync a crash soon after the rename could leave a truncated blob under its digest.
        await handle.datasync();
        await handle.close();
        await mkdir(path.dirname(final), { recursive: true });
        // rename is atomic and replaces: a concurrent put of the same bytes just wins or loses the race.
        await rename(temp, final);
        renamed = true;
        return info;
      } finally {
        if (!renamed) await handle.close().catch(() => undefined);
      }
    } finally {
      if (!renamed) await unlink(temp).catch(() => undefined);
    }
  }

  async get(digest: BlobDigest, options: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const file = this.#blobPath(digest);
    const info = await this.stat(digest);
    if (info === undefined) throw new BlobNotFoundError(digest);
    const range = resolveBlobRange(digest, info.size, options);
    // The file is opened lazily, so a stream that is never iterated holds no descriptor.
    return readRange(file, digest, range, options.signal);
  }

  async stat(digest: BlobDigest): Promise<BlobInfo | undefined> {
    const file = this.#blobPath(digest);
    try {
      const stats = await stat(file);
      return { digest, size: stats.size };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new BlobError(`cannot stat blob ${digest}: ${describe(error)}`, { cause: error });
    }
  }

  async has(digest: BlobDigest): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async delete(digest: BlobDigest): Promise<boolean> {
    const file = this.#blobPath(digest);
    try {
      await unlink(file);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw new BlobError(`cannot delete blob ${digest}: ${describe(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {}
}

async function* readRange(
  file: string,
  digest: BlobDigest,
  range: BlobRange,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  signal?.throwIfAborted();
  if (range.end === range.start) return;
  // `end` is inclusive for createReadStream.
  const stream = createReadStream(file, {
    start: range.start,
    end: range.end - 1,
    highWaterMark: 256 * 1024,
    ...(signal === undefined ? {} : { signal }),
  });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    // Deleted between stat and open.
    if (isMissing(error)) throw new BlobNotFoundError(digest, { cause: error });
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
