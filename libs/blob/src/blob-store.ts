import type { BlobDigest } from "./blob-digest.js";
import type { BlobSource } from "./blob-source.js";
import { BlobRangeError } from "./errors.js";

/** What the store knows about one blob. */
export interface BlobInfo {
  /** The blob's content address. */
  readonly digest: BlobDigest;
  /** Size in bytes. */
  readonly size: number;
}

/** Options of {@link BlobStore.put}. */
export interface PutOptions {
  /** The digest the bytes must hash to; on a mismatch nothing is stored. */
  expectedDigest?: BlobDigest;
  /** The size in bytes the source must have; on a mismatch nothing is stored. */
  expectedSize?: number;
  /** Aborts the put; nothing is stored. */
  signal?: AbortSignal;
}

/** Options of {@link BlobStore.get}. */
export interface GetOptions {
  /** First byte to read. @default 0 */
  offset?: number;
  /** Number of bytes to read. @default the rest of the blob */
  length?: number;
  /** Aborts the read; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A content-addressed blob store: blobs are immutable byte strings named by
 * their sha256 digest. Every method refuses a malformed digest with
 * `InvalidBlobDigestError` before any I/O.
 */
export interface BlobStore {
  /** Which implementation this is. */
  readonly kind: "directory" | "nats";
  /** Where the blobs live, for logs: e.g. `directory /x/blobs` or `nats object store tailor_blobs`. */
  readonly description: string;
  /**
   * Streams the source in, hashing as it goes, and stores it under its
   * sha256. With `expectedDigest`/`expectedSize` a mismatch throws
   * `BlobDigestMismatchError`/`BlobSizeMismatchError` and stores nothing; so
   * does an abort or a failing source. Idempotent: putting a blob that is
   * already stored is cheap and returns its info (with `expectedDigest` of a
   * stored blob the source is not read at all, only released).
   */
  put(source: BlobSource, options?: PutOptions): Promise<BlobInfo>;
  /**
   * The blob's bytes (or those of `[offset, offset + length)`) as a stream of
   * chunks; never buffers the whole blob. Throws `BlobNotFoundError` if the
   * blob is absent and `BlobRangeError` for a range outside it.
   */
  get(digest: BlobDigest, options?: GetOptions): Promise<AsyncIterable<Uint8Array>>;
  /** The blob's info, or `undefined` if it is absent. */
  stat(digest: BlobDigest): Promise<BlobInfo | undefined>;
  /** Whether the blob is stored. */
  has(digest: BlobDigest): Promise<boolean>;
  /** Removes the blob; `false` if it was not there. */
  delete(digest: BlobDigest): Promise<boolean>;
  /** Releases the store's resources (the NATS connection); safe to call twice. */
  close(): Promise<void>;
}

/** A validated byte range: `[start, end)`. */
export interface BlobRange {
  readonly start: number;
  readonly end: number;
}

/** Checks `options.offset`/`options.length` against a blob of `size` bytes. */
export function resolveBlobRange(digest: BlobDigest, size: number, options: GetOptions): BlobRange {
  const { offset = 0, length } = options;
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new BlobRangeError(digest, size, `offset ${offset} is not a non-negative integer`);
  if (offset > size) throw new BlobRangeError(digest, size, `offset ${offset} is past the end`);
  if (length === undefined) return { start: offset, end: size };
  if (!Number.isSafeInteger(length) || length < 0)
    throw new BlobRangeError(digest, size, `length ${length} is not a non-negative integer`);
  if (offset + length > size)
    throw new BlobRangeError(
      digest,
      size,
      `${length} bytes from offset ${offset} run past the end`,
    );
  return { start: offset, end: offset + length };
}
