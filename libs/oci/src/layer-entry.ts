/**
 * One layer entry and its tar headers: POSIX ustar blocks, preceded by a PAX
 * extended header when a value does not fit (long or non-ASCII path, link
 * or owner name; uid, gid, size or mtime beyond the octal fields, which then
 * also carry GNU base-256 so every reader agrees). Every field comes from the
 * entry; nothing reads a clock, and no atime or ctime records are written.
 */
import { InvalidLayerEntryError } from "./errors.js";

/** Kind of a layer entry. */
export type LayerEntryType = "file" | "directory" | "symlink" | "hardlink";

/** One file system object of a layer, written as a tar entry. */
export interface LayerEntry {
  /**
   * Path relative to the image root, without a leading `/` (`usr/bin/env`);
   * a directory may end in `/`. `.` is the root directory.
   */
  path: string;
  /** What the entry is. */
  type: LayerEntryType;
  /** Permission bits (`0o755`, setuid/setgid/sticky included); file-type bits above `0o7777` are dropped. */
  mode: number;
  /** Numeric owner. */
  uid: number;
  /** Numeric group. */
  gid: number;
  /** Owner name. @default "" */
  uname?: string;
  /** Group name. @default "" */
  gname?: string;
  /** Modification time; whole seconds are written (sub-second parts dropped), never before 1970. */
  mtime: Date;
  /** Content length of a file; required when `data` is an async iterable, checked against it otherwise. */
  size?: number;
  /** Symlink target (kept as given) or hard link target (a path of an earlier entry, same form as `path`). */
  linkname?: string;
  /** Content of a file: bytes, or chunks that must add up to `size` (not modified after being yielded). */
  data?: Uint8Array | AsyncIterable<Uint8Array>;
  /**
   * Extra PAX records (e.g. `SCHILY.xattr.security.capability`), values as
   * UTF-8. Keys this writer derives itself (path, linkpath, size, uid, gid,
   * uname, gname, mtime, atime, ctime) are refused.
   */
  pax?: Record<string, string>;
}

/** A checked entry, ready for {@link encodeLayerEntryHeader}. */
export interface PreparedLayerEntry {
  /** The name as written in the tar (`dir/` for directories, `./` for the root). */
  readonly name: string;
  readonly type: LayerEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Content length (0 for everything but files). */
  readonly size: number;
  readonly linkname: string;
  readonly pax: readonly (readonly [string, string])[];
}

const BLOCK = 512;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const RESERVED_PAX_KEYS = new Set([
  "path",
  "linkpath",
  "size",
  "uid",
  "gid",
  "uname",
  "gname",
  "mtime",
  "atime",
  "ctime",
]);
const TYPE_FLAGS: Readonly<Record<LayerEntryType, number>> = {
  file: 0x30, // "0"
  hardlink: 0x31, // "1"
  symlink: 0x32, // "2"
  directory: 0x35, // "5"
};
const encoder = new TextEncoder();

/**
 * Checks an entry and fixes its header values.
 * @throws InvalidLayerEntryError naming the path and the broken constraint.
 */
export function prepareLayerEntry(entry: LayerEntry): PreparedLayerEntry {
  const fail: (reason: string) => never = (reason) => {
    throw new InvalidLayerEntryError(String(entry.path), reason);
  };
  if (!Object.hasOwn(TYPE_FLAGS, entry.type)) fail(`type "${String(entry.type)}" is not supported`);
  const path = checkArchivePath(entry.path, entry.type === "directory", "path", fail);
  const name = entry.type === "directory" ? (path === "." ? "./" : `${path}/`) : path;
  if (path === "." && entry.type !== "directory") fail("only a directory can be the root");

  if (!Number.isInteger(entry.mode) || entry.mode < 0) {
    fail(`mode ${entry.mode} is not a non-negative integer`);
  }
  for (const field of ["uid", "gid"] as const) {
    const value = entry[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      fail(`${field} ${value} is not a non-negative integer`);
    }
  }
  const mtimeMs = entry.mtime instanceof Date ? entry.mtime.getTime() : Number.NaN;
  if (!Number.isFinite(mtimeMs)) fail("mtime is not a valid date");
  if (mtimeMs < 0) fail(`mtime ${entry.mtime.toISOString()} is before 1970`);
  for (const field of ["uname", "gname"] as const) {
    const value = entry[field];
    if (value !== undefined && (typeof value !== "string" || value.includes("\0"))) {
      fail(`${field} must be a string without NUL bytes`);
    }
  }

  let size = 0;
  if (entry.type === "file") {
    if (entry.size !== undefined && (!Number.isSafeInteger(entry.size) || entry.size < 0)) {
      fail(`size ${entry.size} is not a non-negative integer`);
    }
    if (entry.data instanceof Uint8Array) {
      if (entry.size !== undefined && entry.size !== entry.data.length) {
        fail(`size ${entry.size} differs from the ${entry.data.length} bytes of data`);
      }
      size = entry.data.length;
    } else if (entry.data !== undefined) {
      if (entry.size === undefined) fail("size is required when data is streamed");
      size = entry.size ?? 0;
    } else {
      if (entry.size !== undefined && entry.size !== 0) fail(`size ${entry.size} but no data`);
    }
  } else {
    const hasData =
      entry.data instanceof Uint8Array ? entry.data.length > 0 : entry.data !== undefined;
    if (hasData || (entry.size !== undefined && entry.size !== 0)) {
      fail(`a ${entry.type} cannot have content`);
    }
  }

  let linkname = "";
  if (entry.type === "symlink") {
    if (typeof entry.linkname !== "string" || entry.linkname === "")
      fail("a symlink needs a linkname");
    if (entry.linkname?.includes("\0")) fail("linkname holds a NUL byte");
    linkname = entry.linkname ?? "";
  } else if (entry.type === "hardlink") {
    if (typeof entry.linkname !== "string" || entry.linkname === "") {
      fail("a hard link needs a linkname");
    }
    linkname = checkArchivePath(entry.linkname ?? "", false, "hard link target", fail);
    if (linkname === ".") fail("a hard link cannot point at the root");
  } else if (entry.linkname !== undefined && entry.linkname !== "") {
    fail(`a ${entry.type} cannot have a linkname`);
  }

  const pax: [string, string][] = [];
  for (const [key, value] of Object.entries(entry.pax ?? {})) {
    if (key === "" || /[=\n\0]/.test(key)) fail(`PAX key "${key}" is not valid`);
    if (RESERVED_PAX_KEYS.has(key)) fail(`PAX key "${key}" is derived from the entry, not given`);
    if (typeof value !== "string") fail(`PAX record "${key}" is not a string`);
    pax.push([key, value]);
  }

  return {
    name,
    type: entry.type,
    mode: entry.mode & 0o7777,
    uid: entry.uid,
    gid: entry.gid,
    uname: entry.uname ?? "",
    gname: entry.gname ?? "",
    mtime: Math.floor(mtimeMs / 1000),
    size,
    linkname,
    pax,
  };
}

/**
 * A normalised archive path: no leading `/`, no empty, `.` or `..`
 * components (a trailing `/` allowed for directories), no NUL; `.`/`./` is the root.
 */
function checkArchivePath(
  path: unknown,
  directory: boolean,
  what: string,
  fail: (reason: string) => never,
): string {
  if (typeof path !== "string" || path === "") fail(`${what} is empty`);
  const text = path as string;
  if (text.includes("\0")) fail(`${what} holds a NUL byte`);
  if (text.startsWith("/")) fail(`${what} is absolute (layer paths are relative to the root)`);
  if (directory && (text === "." || text === "./")) return ".";
  const trimmed = directory && text.endsWith("/") ? text.slice(0, -1) : text;
  for (const part of trimmed.split("/")) {
    if (part === "..") fail(`${what} climbs out of the root with ".."`);
    if (part === "" || part === ".") fail(`${what} has an empty or "." component`);
  }
  return trimmed;
}

/**
 * The header blocks of a prepared entry: a PAX extended header (with its
 * padded body) when needed, then the ustar header. The content and its
 * padding follow separately.
 */
export function encodeLayerEntryHeader(entry: PreparedLayerEntry): Uint8Array {
  const records: [string, string][] = [];
  const name = textField(entry.name, 100, "path", records);
  const linkname = textField(entry.linkname, 100, "linkpath", records);
  const uname = textField(entry.uname, 32, "uname", records);
  const gname = textField(entry.gname, 32, "gname", records);
  const uid = numberField(entry.uid, MAX_OCTAL_7, "uid", records);
  const gid = numberField(entry.gid, MAX_OCTAL_7, "gid", records);
  const size = numberField(entry.size, MAX_OCTAL_11, "size", records);
  const mtime = numberField(entry.mtime, MAX_OCTAL_11, "mtime", records);
  records.push(...entry.pax.map(([key, value]): [string, string] => [key, value]));

  const main = headerBlock({
    name,
    mode: entry.mode,
    uid,
    gid,
    size,
    mtime,
    typeflag: TYPE_FLAGS[entry.type],
    linkname,
    uname,
    gname,
  });
  if (records.length === 0) return main;

  // Sorted like Go's archive/tar, so the record order never depends on how the entry was built.
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = concat(records.map(([key, value]) => encodePaxRecord(key, value)));
  const padded = body.length + ((BLOCK - (body.length % BLOCK)) % BLOCK);
  const out = new Uint8Array(BLOCK + padded + BLOCK);
  out.set(
    headerBlock({
      name: asciiPrefix(paxHeaderName(entry.name), 100),
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: Math.min(entry.mtime, MAX_OCTAL_11),
      typeflag: 0x78, // "x"
      linkname: new Uint8Array(0),
      uname: new Uint8Array(0),
      gname: new Uint8Array(0),
    }),
    0,
  );
  out.set(body, BLOCK);
  out.set(main, BLOCK + padded);
  return out;
}

/** Two zero blocks: the end of a tar archive. */
export const END_OF_ARCHIVE: Uint8Array = new Uint8Array(2 * BLOCK);

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function paddingAfter(size: number): Uint8Array {
  return ZEROS.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);
}

const ZEROS = new Uint8Array(BLOCK);

/** The field bytes of a string; a PAX record too when it is longer than the field or not ASCII. */
function textField(value: string, width: number, key: string, records: [string, string][]) {
  const bytes = encoder.encode(value);
  if (bytes.length <= width && isAscii(bytes)) return bytes;
  records.push([key, value]);
  return asciiPrefix(value, width);
}

/** An octal-fitting number, or the number and a PAX record (the field then holds GNU base-256). */
function numberField(value: number, maxOctal: number, key: string, records: [string, string][]) {
  if (value > maxOctal) records.push([key, String(value)]);
  return value;
}

interface HeaderFields {
  readonly name: Uint8Array;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: number;
  readonly linkname: Uint8Array;
  readonly uname: Uint8Array;
  readonly gname: Uint8Array;
}

const USTAR_MAGIC = encoder.encode("ustar\u000000");

function headerBlock(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block.set(fields.name, 0);
  putNumber(block, 100, 8, fields.mode);
  putNumber(block, 108, 8, fields.uid);
  putNumber(block, 116, 8, fields.gid);
  putNumber(block, 124, 12, fields.size);
  putNumber(block, 136, 12, fields.mtime);
  block[156] = fields.typeflag;
  block.set(fields.linkname, 157);
  block.set(USTAR_MAGIC, 257);
  block.set(fields.uname, 265);
  block.set(fields.gname, 297);
  putNumber(block, 329, 8, 0);
  putNumber(block, 337, 8, 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] ?? 0;
  // Six octal digits, NUL, space: what GNU tar and Go's archive/tar write.
  block.set(encoder.encode(`${sum.toString(8).padStart(6, "0")}\u0000 `), 148);
  return block;
}

/** Zero-padded octal with a NUL terminator, or GNU base-256 (0x80, big-endian) when it does not fit. */
function putNumber(block: Uint8Array, offset: number, width: number, value: number): void {
  const digits = width - 1;
  if (value < 8 ** digits) {
    block.set(encoder.encode(value.toString(8).padStart(digits, "0")), offset);
    return;
  }
  block[offset] = 0x80;
  let rest = value;
  for (let i = offset + width - 1; i > offset; i--) {
    block[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** `"<length> <key>=<value>\n"`, where the length counts itself. */
function encodePaxRecord(key: string, value: string): Uint8Array {
  const payload = encoder.encode(` ${key}=${value}\n`);
  let digits = String(payload.length).length;
  if (String(payload.length + digits).length !== digits) digits++;
  const length = payload.length + digits;
  const out = new Uint8Array(length);
  out.set(encoder.encode(String(length)), 0);
  out.set(payload, digits);
  return out;
}

/** `dir/PaxHeaders/base`, GNU tar's naming without its process id, so names are stable. */
function paxHeaderName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  const slash = trimmed.lastIndexOf("/");
  const dir = slash < 0 ? "." : trimmed.slice(0, slash);
  return `${dir}/PaxHeaders/${trimmed.slice(slash + 1)}`;
}

/** The ASCII characters of `value`, cut to `width` bytes (the fallback field of a PAX-carried value). */
function asciiPrefix(value: string, width: number): Uint8Array {
  const bytes = encoder.encode(value.replace(/[^\x20-\x7e]/g, ""));
  return bytes.length <= width ? bytes : bytes.subarray(0, width);
}

function isAscii(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte >= 0x80) return false;
  return true;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
