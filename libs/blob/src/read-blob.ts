import type { BlobDigest } from "./blob-digest.js";
import type { BlobStore } from "./blob-store.js";
import { BlobTooLargeError } from "./errors.js";

/** Options of {@link readBlob}. */
export interface ReadBlobOptions {
  /** Largest blob collected; a larger one throws `BlobTooLargeError`. @default 64 MiB */
  maxBytes?: number;
}

/** Default {@link ReadBlobOptions.maxBytes}: 64 MiB. */
export const defaultReadBlobMaxBytes = 64 * 1024 * 1024;

/**
 * Collects a whole blob into memory, for small blobs such as manifests and
 * indexes. Refuses one larger than `maxBytes` with {@link BlobTooLargeError}
 * (checked before reading, and again while reading).
 */
export async function readBlob(
  store: BlobStore,
  digest: BlobDigest,
  options: ReadBlobOptions = {},
): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? defaultReadBlobMaxBytes;
  const info = await store.stat(digest);
  if (info !== undefined && info.size > maxBytes) throw new BlobTooLargeError(digest, maxBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of await store.get(digest)) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new BlobTooLargeError(digest, maxBytes);
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
