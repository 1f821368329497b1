/**
 * The gzip member header of RFC 1952 (section 2.3): magic, method, flags,
 * mtime, extra flags, OS, then the optional FEXTRA, FNAME, FCOMMENT and FHCRC
 * parts. Parsed here rather than by zlib so that every member's exact byte
 * range is known.
 */
import { GzipError } from "../errors.js";
import { crc32 } from "./crc32.js";

/** The fields of one gzip member header. */
export interface GzipHeader {
  /** Modification time of the original data, seconds since the epoch (0: none). */
  readonly mtime: number;
  /** Extra flags (XFL): 2 = slowest compression, 4 = fastest. */
  readonly extraFlags: number;
  /** Operating system that wrote the member (3 = Unix, 255 = unknown). */
  readonly os: number;
  /** Whether FTEXT was set (the data is probably text). */
  readonly text: boolean;
  /** FEXTRA bytes, when present. */
  readonly extra?: Uint8Array;
  /** Original file name (FNAME, ISO 8859-1), when present. */
  readonly name?: string;
  /** Comment (FCOMMENT, ISO 8859-1), when present. */
  readonly comment?: string;
  /** Whether the header carried its own CRC16 (FHCRC), which was checked. */
  readonly headerCrc: boolean;
  /** Length of the whole header in bytes. */
  readonly length: number;
}

/** Size of the fixed part of a gzip header. */
export const GZIP_FIXED_HEADER_BYTES = 10;
/** Size of a gzip member trailer: CRC32 then ISIZE, both little-endian. */
export const GZIP_TRAILER_BYTES = 8;
/**
 * Largest header accepted: FNAME and FCOMMENT are unbounded in the format,
 * so a stream of non-zero bytes would otherwise be buffered forever.
 */
export const GZIP_MAX_HEADER_BYTES = 1024 * 1024;

const ID1 = 0x1f;
const ID2 = 0x8b;
const CM_DEFLATE = 8;
const FTEXT = 0x01;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0;

/**
 * Parses the gzip header at the start of `bytes`. Returns `undefined` when
 * `bytes` ends before the header does (read more and call again).
 *
 * @param offset - absolute offset of `bytes[0]` in the input, for errors.
 * @throws GzipError when the bytes are not a gzip header this reader supports.
 */
export function parseGzipHeader(bytes: Uint8Array, offset = 0): GzipHeader | undefined {
  if (bytes.length >= 1 && bytes[0] !== ID1) throw notGzip(offset);
  if (bytes.length >= 2 && bytes[1] !== ID2) throw notGzip(offset);
  if (bytes.length >= 3 && bytes[2] !== CM_DEFLATE) {
    throw new GzipError(`compression method ${bytes[2]} is not deflate (8)`, {
      offset: offset + 2,
    });
  }
  if (bytes.length < GZIP_FIXED_HEADER_BYTES) return undefined;
  const flags = bytes[3] ?? 0;
  if ((flags & RESERVED_FLAGS) !== 0) {
    throw new GzipError(`reserved header flag bits are set (0x${flags.toString(16)})`, {
      offset: offset + 3,
    });
  }
  let at = GZIP_FIXED_HEADER_BYTES;
  let extra: Uint8Array | undefined;
  let name: string | undefined;
  let comment: string | undefined;
  if ((flags & FEXTRA) !== 0) {
    if (bytes.length < at + 2) return undefined;
    const extraLength = (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
    at += 2;
    if (bytes.length < at + extraLength) return undefined;
    extra = bytes.slice(at, at + extraLength);
    at += extraLength;
  }
  if ((flags & FNAME) !== 0) {
    const end = bytes.indexOf(0, at);
    if (end < 0) return tooLongOrIncomplete(bytes, offset);
    name = latin1(bytes.subarray(at, end));
    at = end + 1;
  }
  if ((flags & FCOMMENT) !== 0) {
    const end = bytes.indexOf(0, at);
    if (end < 0) return tooLongOrIncomplete(bytes, offset);
    comment = latin1(bytes.subarray(at, end));
    at = end + 1;
  }
  if ((flags & FHCRC) !== 0) {
    if (bytes.length < at + 2) return undefined;
    const stored = (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
    const actual = crc32(bytes.subarray(0, at)) & 0xffff;
    if (stored !== actual) {
      throw new GzipError(
        `header CRC16 mismatch (stored 0x${hex4(stored)}, computed 0x${hex4(actual)})`,
        { offset: offset + at },
      );
    }
    at += 2;
  }
  if (at > GZIP_MAX_HEADER_BYTES) throw headerTooLong(offset);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: {
    -readonly [K in keyof GzipHeader]: GzipHeader[K];
  } = {
    mtime: view.getUint32(4, true),
    extraFlags: bytes[8] ?? 0,
    os: bytes[9] ?? 0,
    text: (flags & FTEXT) !== 0,
    headerCrc: (flags & FHCRC) !== 0,
    length: at,
  };
  if (extra !== undefined) header.extra = extra;
  if (name !== undefined) header.name = name;
  if (comment !== undefined) header.comment = comment;
  return header;
}

function tooLongOrIncomplete(bytes: Uint8Array, offset: number): undefined {
  if (bytes.length >= GZIP_MAX_HEADER_BYTES) throw headerTooLong(offset);
  return undefined;
}

function headerTooLong(offset: number): GzipError {
  return new GzipError(`gzip header is longer than ${GZIP_MAX_HEADER_BYTES} bytes`, { offset });
}

function notGzip(offset: number): GzipError {
  return new GzipError("not a gzip member (bad magic bytes)", { offset });
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function hex4(value: number): string {
  return value.toString(16).padStart(4, "0");
}
