/**
 * The layer writer: tar → gzip in one streaming pass that hashes both sides,
 * giving the layer digest and size (compressed) and the diff_id and size
 * (uncompressed) without holding the layer in memory.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
import { OciError } from "./errors.js";
import type { LayerEntry } from "./layer-entry.js";
import { createTarStream } from "./tar-stream.js";

/** Options of {@link writeLayer}. */
export interface WriteLayerOptions {
  /** zlib level 0–9; part of the layer's identity (another level, another digest). @default 6 */
  gzipLevel?: number;
}

/** What {@link writeLayer} wrote. */
export interface WrittenLayer {
  /** `sha256:` of the compressed bytes: the layer blob's digest. */
  digest: string;
  /** `sha256:` of the uncompressed tar: the config's `rootfs.diff_ids` entry. */
  diffId: string;
  /** Compressed size in bytes. */
  size: number;
  /** Uncompressed tar size in bytes. */
  uncompressedSize: number;
}

/** The default gzip level: gzip's own default, a good speed/size balance for a one-off layer. */
export const DEFAULT_GZIP_LEVEL = 6;

const OS_UNIX = 3;
const OS_BYTE_OFFSET = 9;
// Small pieces (headers, padding, small files) are gathered so zlib and the hashes see few, large calls.
const GATHER_BYTES = 256 * 1024;
const PASS_THROUGH_BYTES = 64 * 1024;
// Tar bytes read (and hashed) ahead while zlib compresses on its worker thread: overlaps the
// two without letting the source run far ahead of a slow sink.
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Writes `entries` as a gzip-compressed tar layer to `sink`, chunk by chunk,
 * and returns its digest, diff_id and sizes. The next chunk is produced only
 * after the sink's promise settles, so a slow sink slows the source instead
 * of filling memory. Deterministic: same entries and level → same bytes
 * (entries in the given order, fixed tar fields, gzip header with mtime 0,
 * no name and the Unix OS byte; zlib memLevel 8, window 15, default strategy).
 * The compressed bytes depend on Node's bundled zlib; the diff_id does not.
 *
 * @throws InvalidLayerEntryError for a bad entry; OciError for a bad level;
 *   the sink's or a data source's own error unchanged.
 */
export async function writeLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  sink: (chunk: Uint8Array) => Promise<void> | void,
  options: WriteLayerOptions = {},
): Promise<WrittenLayer> {
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new OciError(`gzip level ${level} is not an integer from 0 to 9`);
  }
  const tarHash = createHash("sha256");
  const gzipHash = createHash("sha256");
  let uncompressedSize = 0;
  let size = 0;

  // The first failure (a bad entry, a failing data source or sink) is what the caller sees,
  // not the abort it causes in the other pipeline stages.
  let failure: { error: unknown } | undefined;
  async function* tar(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of gather(createTarStream(entries))) {
        tarHash.update(chunk);
        uncompressedSize += chunk.length;
        yield chunk;
      }
    } catch (error) {
      failure ??= { error };
      throw error;
    }
  }

  const gzip = createGzip({
    level,
    memLevel: 8,
    windowBits: 15,
    strategy: constants.Z_DEFAULT_STRATEGY,
    chunkSize: 64 * 1024,
  });
  try {
    await pipeline(
      Readable.from(tar(), { objectMode: false, highWaterMark: READ_AHEAD_BYTES }),
      gzip,
      async (source) => {
        for await (const chunk of source as AsyncIterable<Uint8Array>) {
          // zlib takes the OS byte from the platform it was built for; pin it so bytes match everywhere.
          if (size <= OS_BYTE_OFFSET && size + chunk.length > OS_BYTE_OFFSET) {
            chunk[OS_BYTE_OFFSET - size] = OS_UNIX;
          }
          gzipHash.update(chunk);
          size += chunk.length;
          try {
            await sink(chunk);
          } catch (error) {
            failure ??= { error };
            throw error;
          }
        }
      },
    );
  } catch (error) {
    throw failure === undefined ? error : failure.error;
  }
  return {
    digest: `sha256:${gzipHash.digest("hex")}`,
    diffId: `sha256:${tarHash.digest("hex")}`,
    size,
    uncompressedSize,
  };
}

/** Gathers small chunks into buffers of up to {@link GATHER_BYTES}; large chunks pass through uncopied. */
async function* gather(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(GATHER_BYTES);
  let filled = 0;
  for await (const chunk of source) {
    if (chunk.length >= PASS_THROUGH_BYTES) {
      if (filled > 0) {
        yield buffer.subarray(0, filled);
        buffer = new Uint8Array(GATHER_BYTES);
        filled = 0;
      }
      yield chunk;
      continue;
    }
    if (filled + chunk.length > GATHER_BYTES) {
      yield buffer.subarray(0, filled);
      buffer = new Uint8Array(GATHER_BYTES);
      filled = 0;
    }
    buffer.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}
