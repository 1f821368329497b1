/**
 * Splits a stream of concatenated gzip members (RFC 1952 section 2.2) into
 * its members, inflating each in a streaming fashion. An APK v2 package is
 * such a stream: [signature member] control member, data member(s). Each
 * member's exact compressed byte range is reported, because signatures,
 * the package checksum and the datahash are computed over compressed bytes.
 */
import zlib from "node:zlib";
import { GzipError, LimitExceededError } from "../errors.js";
import { crc32 } from "./crc32.js";
import {
  GZIP_FIXED_HEADER_BYTES,
  GZIP_MAX_HEADER_BYTES,
  GZIP_TRAILER_BYTES,
  type GzipHeader,
  parseGzipHeader,
} from "./gzip-header.js";

/** One complete gzip member: where it lies in the input and what it held. */
export interface GzipMember {
  /** 0-based position of the member in the stream. */
  readonly index: number;
  /** Offset of the member's first header byte in the input. */
  readonly offset: number;
  /** Compressed length, header and trailer included: the member is `[offset, offset + length)`. */
  readonly length: number;
  /** Number of bytes the member inflates to. */
  readonly uncompressedLength: number;
  /** CRC-32 of the inflated bytes (checked against the trailer). */
  readonly crc32: number;
  /** The member's header fields. */
  readonly header: GzipHeader;
}

/**
 * What {@link readGzipMembers} reports, in input order. For each member:
 * `member-start`, then its `compressed` bytes (header, deflate data, trailer:
 * together exactly `[offset, offset + length)`) interleaved with the `data`
 * they inflate to, then `member-end`.
 */
export type GzipEvent =
  | {
      readonly type: "member-start";
      readonly index: number;
      readonly offset: number;
      readonly header: GzipHeader;
    }
  | { readonly type: "compressed"; readonly bytes: Uint8Array }
  | { readonly type: "data"; readonly bytes: Uint8Array }
  | { readonly type: "member-end"; readonly member: GzipMember };

/** Limits of {@link readGzipMembers}; both guard against decompression bombs. */
export interface GzipReadOptions {
  /**
   * Most bytes all members together may inflate to.
   * @default 4294967296 (4 GiB)
   */
  readonly maxUncompressedBytes?: number;
  /**
   * Highest ratio of inflated to compressed bytes so far, checked once more
   * than {@link EXPANSION_CHECK_THRESHOLD_BYTES} have been inflated (small
   * inputs legitimately compress far better than this).
   * @default 100
   */
  readonly maxExpansionRatio?: number;
}

/** Default of {@link GzipReadOptions.maxUncompressedBytes}: 4 GiB. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024;
/** Default of {@link GzipReadOptions.maxExpansionRatio}. */
export const DEFAULT_MAX_EXPANSION_RATIO = 100;
/** Inflated size after which the expansion ratio is enforced (8 MiB). */
export const EXPANSION_CHECK_THRESHOLD_BYTES = 8 * 1024 * 1024;

// Output per inflate call is steered towards this size by choosing how much
// compressed input to hand zlib, so a highly compressible member (a bomb)
// never lands in memory in one piece.
const TARGET_OUTPUT_PER_WRITE = 2 * 1024 * 1024;
const MIN_PIECE = 1024;
const MAX_PIECE = 512 * 1024;
const FIRST_PIECE = 8 * 1024;
const INFLATE_CHUNK_SIZE = 256 * 1024;

/**
 * Reads `source` as concatenated gzip members and reports each member's
 * compressed bytes, inflated data and exact byte range as {@link GzipEvent}s.
 * Memory stays bounded whatever the input size: input is handed to zlib in
 * pieces and nothing is kept once reported. Stop iterating to abandon the
 * input early.
 *
 * @throws GzipError (with the input offset) when the input is empty, is not
 *   gzip, is truncated, has corrupt deflate data, a CRC-32 or ISIZE that does
 *   not match, or bytes after the last member that are not another member.
 * @throws LimitExceededError when a limit in `options` is exceeded.
 */
export async function* readGzipMembers(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  options: GzipReadOptions = {},
): AsyncGenerator<GzipEvent, void, undefined> {
  const maxUncompressed = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  const maxRatio = options.maxExpansionRatio ?? DEFAULT_MAX_EXPANSION_RATIO;
  const input = new InputQueue(source);
  let totalOut = 0;
  let inflater: MemberInflater | undefined;
  try {
    for (let index = 0; ; index++) {
      if (!(await input.ensure(1))) {
        if (index === 0)
          throw new GzipError("input is empty, expected a gzip member", { offset: 0 });
        return;
      }
      const offset = input.position;
      const header = await readHeader(input, index);
      yield { type: "member-start", index, offset, header };
      yield { type: "compressed", bytes: input.take(header.length) };

      inflater = new MemberInflater();
      let crc = 0;
      let memberOut = 0;
      let pieceSize = FIRST_PIECE;
      for (;;) {
        if (!(await input.ensure(1))) {
          throw new GzipError(`member ${index} is truncated: the deflate stream does not end`, {
            offset: input.position,
          });
        }
        const piece = input.peekHead(pieceSize);
        let result: InflateResult;
        try {
          result = await inflater.write(piece);
        } catch (cause) {
          throw new GzipError(
            `member ${index} has corrupt deflate data: ${(cause as Error).message}`,
            { offset: input.position },
            { cause },
          );
        }
        if (result.consumed > 0) {
          yield { type: "compressed", bytes: input.take(result.consumed) };
        }
        let written = 0;
        for (const chunk of result.outputs) {
          written += chunk.length;
          totalOut += chunk.length;
          if (totalOut > maxUncompressed) {
            throw new LimitExceededError(
              `inflates to more than ${maxUncompressed} bytes (maxUncompressedBytes)`,
              { offset: input.position },
            );
          }
          if (totalOut > EXPANSION_CHECK_THRESHOLD_BYTES && totalOut > input.position * maxRatio) {
            throw new LimitExceededError(
              `expands more than ${maxRatio} times (${totalOut} bytes from ${input.position}; maxExpansionRatio)`,
              { offset: input.position },
            );
          }
          crc = crc32(chunk, crc);
          memberOut += chunk.length;
          yield { type: "data", bytes: chunk };
        }
        if (result.ended) break;
        const ratio = result.consumed > 0 ? written / result.consumed : 1;
        pieceSize = clamp(
          Math.floor(TARGET_OUTPUT_PER_WRITE / Math.max(ratio, 1)),
          MIN_PIECE,
          MAX_PIECE,
        );
      }
      inflater.close();
      inflater = undefined;

      const trailerOffset = input.position;
      if (!(await input.ensure(GZIP_TRAILER_BYTES))) {
        throw new GzipError(`member ${index} is truncated: its 8-byte trailer is missing`, {
          offset: trailerOffset,
        });
      }
      const trailer = input.take(GZIP_TRAILER_BYTES);
      const view = new DataView(trailer.buffer, trailer.byteOffset, trailer.byteLength);
      const storedCrc = view.getUint32(0, true);
      const storedSize = view.getUint32(4, true);
      if (storedCrc !== crc >>> 0) {
        throw new GzipError(
          `member ${index} CRC-32 mismatch (trailer 0x${hex8(storedCrc)}, data 0x${hex8(crc)})`,
          { offset: trailerOffset },
        );
      }
      if (storedSize !== memberOut % 2 ** 32) {
        throw new GzipError(
          `member ${index} size mismatch (trailer ${storedSize}, data ${memberOut} bytes)`,
          { offset: trailerOffset + 4 },
        );
      }
      yield { type: "compressed", bytes: trailer };
      yield {
        type: "member-end",
        member: {
          index,
          offset,
          length: input.position - offset,
          uncompressedLength: memberOut,
          crc32: crc >>> 0,
          header,
        },
      };
    }
  } finally {
    inflater?.close();
    await input.close();
  }
}

async function readHeader(input: InputQueue, index: number): Promise<GzipHeader> {
  let want = GZIP_FIXED_HEADER_BYTES;
  for (;;) {
    const complete = await input.ensure(want);
    let header: GzipHeader | undefined;
    try {
      header = parseGzipHeader(
        input.peek(Math.min(input.available, GZIP_MAX_HEADER_BYTES + 2)),
        input.position,
      );
    } catch (error) {
      if (index > 0 && error instanceof GzipError && error.detail.startsWith("not a gzip member")) {
        throw new GzipError(
          `unexpected bytes after gzip member ${index - 1}: not another gzip member`,
          error.location,
        );
      }
      throw error;
    }
    if (header !== undefined) return header;
    if (!complete || input.available < want) {
      throw new GzipError(`member ${index} is truncated inside its header`, {
        offset: input.position,
      });
    }
    // Grow geometrically so a header arriving in tiny chunks costs O(n log n).
    want = Math.min(Math.max(want * 2, input.available + 1), GZIP_MAX_HEADER_BYTES + 2);
  }
}

interface InflateResult {
  /** Input bytes zlib used; fewer than given means the deflate stream ended. */
  readonly consumed: number;
  readonly outputs: Buffer[];
  readonly ended: boolean;
}

/**
 * A raw-deflate inflater for one member. node:zlib counts the input it has
 * used in `bytesWritten`; when the deflate stream ends inside a piece, it
 * stops short, which is how the member's end (and the trailer's start) is found.
 */
class MemberInflater {
  private readonly stream = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK_SIZE });
  private outputs: Buffer[] = [];
  private failure: Error | undefined;
  private rejectPending: ((error: Error) => void) | undefined;

  constructor() {
    this.stream.on("data", (chunk: Buffer) => this.outputs.push(chunk));
    // zlib reports corrupt data only through this event, not the write callback.
    this.stream.on("error", (error: Error) => {
      this.failure = error;
      this.rejectPending?.(error);
    });
  }

  write(piece: Uint8Array): Promise<InflateResult> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const before = this.stream.bytesWritten;
    return new Promise<InflateResult>((resolve, reject) => {
      this.rejectPending = reject;
      this.stream.write(piece, (error) => {
        this.rejectPending = undefined;
        if (error) {
          reject(error);
          return;
        }
        // Output zlib buffered rather than emitted is pulled out here (read()
        // emits it as 'data'), so nothing of this piece is left behind.
        while (this.stream.readableLength > 0 && this.stream.read() !== null) {}
        const consumed = this.stream.bytesWritten - before;
        const outputs = this.outputs;
        this.outputs = [];
        resolve({ consumed, outputs, ended: consumed < piece.length });
      });
    });
  }

  close(): void {
    this.stream.destroy();
  }
}

/** The not-yet-used input chunks, with the absolute position of the first byte. */
class InputQueue {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  private done = false;
  /** Bytes queued and not yet taken. */
  available = 0;
  /** Absolute input offset of the next byte to take. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array) {
    if (source instanceof Uint8Array) {
      this.iterator = [source][Symbol.iterator]();
    } else if (Symbol.asyncIterator in source) {
      this.iterator = source[Symbol.asyncIterator]();
    } else {
      this.iterator = source[Symbol.iterator]();
    }
  }

  /** Reads from the source until `count` bytes are queued; false when it ends first. */
  async ensure(count: number): Promise<boolean> {
    while (this.available < count) {
      if (this.done) return false;
      const next = await this.iterator.next();
      if (next.done === true) {
        this.done = true;
        return false;
      }
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError("gzip source yielded something other than a Uint8Array");
      }
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
    return true;
  }

  /** Up to `max` queued bytes from the first chunk only, without copying or taking them. */
  peekHead(max: number): Uint8Array {
    const chunk = this.chunks[this.head];
    if (chunk === undefined) return new Uint8Array(0);
    return chunk.subarray(this.headOffset, Math.min(chunk.length, this.headOffset + max));
  }

  /** The first `count` queued bytes, copied only when they span chunks. */
  peek(count: number): Uint8Array {
    const first = this.peekHead(count);
    if (first.length >= count || first.length === this.available) return first;
    const out = new Uint8Array(Math.min(count, this.available));
    let filled = 0;
    for (let i = this.head; i < this.chunks.length && filled < out.length; i++) {
      const chunk = this.chunks[i] as Uint8Array;
      const from = i === this.head ? this.headOffset : 0;
      const part = chunk.subarray(from, from + (out.length - filled));
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  /** Takes `count` queued bytes (the caller made sure they are there). */
  take(count: number): Uint8Array {
    const bytes = this.peek(count);
    let left = count;
    while (left > 0) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const inChunk = chunk.length - this.headOffset;
      if (left < inChunk) {
        this.headOffset += left;
        left = 0;
      } else {
        left -= inChunk;
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.headOffset = 0;
      }
    }
    if (this.head > 64) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
    this.available -= count;
    this.position += count;
    return bytes;
  }

  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }
}

const EMPTY = new Uint8Array(0);

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
