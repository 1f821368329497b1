import { createHash } from "node:crypto";
import type { BlobDigest } from "./blob-digest.js";
import { digestHex } from "./blob-digest.js";
import type { BlobInfo, BlobStore, PutOptions } from "./blob-store.js";
import { BlobDigestMismatchError, BlobError, BlobSizeMismatchError } from "./errors.js";

/** Bytes to put: in memory, an async iterable, a web stream or a Node.js stream. */
export type BlobSource =
  | Uint8Array
  | AsyncIterable<Uint8Array>
  | ReadableStream<Uint8Array>
  | NodeJS.ReadableStream;

/**
 * One put's pass over its source: yields the source's chunks while hashing
 * and counting them, stops at the first byte past `expectedSize`, and checks
 * the expectations once the source is exhausted.
 */
export class BlobIngest {
  readonly #source: BlobSource;
  readonly #options: PutOptions;
  readonly #hash = createHash("sha256");
  #size = 0;
  readonly #errors = new Set<unknown>();

  /** Validates `options` (a malformed `expectedDigest` throws here, before any I/O). */
  constructor(source: BlobSource, options: PutOptions) {
    if (options.expectedDigest !== undefined) digestHex(options.expectedDigest);
    const { expectedSize } = options;
    if (expectedSize !== undefined && (!Number.isSafeInteger(expectedSize) || expectedSize < 0))
      throw new BlobError(`expectedSize ${expectedSize} is not a non-negative integer`);
    this.#source = source;
    this.#options = options;
  }

  /** The source's chunks; throws on abort and as soon as the source is longer than expected. */
  async *chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const { signal, expectedSize } = this.#options;
    try {
      signal?.throwIfAborted();
      for await (const chunk of sourceChunks(this.#source)) {
        signal?.throwIfAborted();
        if (chunk.byteLength === 0) continue;
        this.#hash.update(chunk);
        this.#size += chunk.byteLength;
        if (expectedSize !== undefined && this.#size > expectedSize)
          throw new BlobSizeMismatchError(expectedSize, this.#size);
        yield chunk;
      }
      signal?.throwIfAborted();
    } catch (error) {
      this.#errors.add(error);
      throw error;
    }
  }

  /**
   * Whether `error` goes to the caller as it is: it came from the source
   * side (the source itself, an abort, a mismatch) or is already a
   * `BlobError`. Anything else is a store failure to wrap.
   */
  passesThrough(error: unknown): boolean {
    return this.#errors.has(error) || error instanceof BlobError;
  }

  /** After {@link chunks} ended: the blob's info, or a mismatch error. */
  finish(): BlobInfo {
    try {
      return this.#finish();
    } catch (error) {
      this.#errors.add(error);
      throw error;
    }
  }

  #finish(): BlobInfo {
    const digest: BlobDigest = `sha256:${this.#hash.digest("hex")}`;
    const { expectedDigest, expectedSize } = this.#options;
    if (expectedSize !== undefined && this.#size !== expectedSize)
      throw new BlobSizeMismatchError(expectedSize, this.#size);
    if (expectedDigest !== undefined && digest !== expectedDigest)
      throw new BlobDigestMismatchError(expectedDigest, digest);
    return { digest, size: this.#size };
  }
}

/** Releases a source that will not be read (a put of a blob already stored). */
export async function discardBlobSource(source: BlobSource): Promise<void> {
  if (source instanceof Uint8Array) return;
  if (isWebStream(source)) {
    await source.cancel().catch(() => undefined);
  } else if (isNodeStream(source)) {
    const destroy = (source as { destroy?: () => void }).destroy;
    if (typeof destroy === "function") destroy.call(source);
  } else {
    await source[Symbol.asyncIterator]().return?.();
  }
}

async function* sourceChunks(source: BlobSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (isWebStream(source)) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield bytes(value);
      }
    } finally {
      // Stopping early (abort, size overrun) cancels the stream; after the end this is a no-op.
      await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }
  for await (const chunk of source as AsyncIterable<unknown>) yield bytes(chunk);
}

function bytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  // A Node.js stream with an encoding set yields strings: refuse rather than guess the encoding.
  throw new BlobError(`blob sources must yield Uint8Array chunks, got ${typeof chunk}`);
}

function isWebStream(source: BlobSource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === "function";
}

function isNodeStream(source: BlobSource): source is NodeJS.ReadableStream {
  return typeof (source as NodeJS.ReadableStream).pipe === "function";
}

/**
 * The put every store shares: a blob already stored under `expectedDigest` is
 * answered without reading the source (which is discarded); otherwise `write`
 * stores what the ingest yields, and a failure that is not the caller's
 * (digest or size mismatch, abort) becomes a BlobError naming the store.
 */
export async function putBlob(
  store: Pick<BlobStore, "stat" | "description">,
  source: BlobSource,
  options: PutOptions,
  write: (ingest: BlobIngest) => Promise<BlobInfo>,
): Promise<BlobInfo> {
  const ingest = new BlobIngest(source, options);
  if (options.expectedDigest !== undefined) {
    const existing = await store.stat(options.expectedDigest);
    if (existing !== undefined) {
      if (options.expectedSize !== undefined && options.expectedSize !== existing.size)
        throw new BlobSizeMismatchError(options.expectedSize, existing.size);
      await discardBlobSource(source);
      return existing;
    }
  }
  try {
    return await write(ingest);
  } catch (error) {
    if (ingest.passesThrough(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new BlobError(`cannot store a blob in ${store.description}: ${reason}`, {
      cause: error,
    });
  }
}
