/**
 * The tar header block shared by the reader and writer: the POSIX ustar
 * layout (with GNU's and PAX's additions), the header checksum, numeric
 * fields in octal or GNU base-256, and PAX extended-header records
 * (POSIX.1-2001 pax format: `"<length> <key>=<value>\n"`).
 */
import { TarError } from "../errors.js";

/** Tar works in 512-byte blocks: headers are one block, bodies are padded to a multiple. */
export const TAR_BLOCK_SIZE = 512;

/** Offset and length of each field of a ustar header block. */
export const TAR_FIELDS = {
  name: { offset: 0, length: 100 },
  mode: { offset: 100, length: 8 },
  uid: { offset: 108, length: 8 },
  gid: { offset: 116, length: 8 },
  size: { offset: 124, length: 12 },
  mtime: { offset: 136, length: 12 },
  checksum: { offset: 148, length: 8 },
  typeflag: { offset: 156, length: 1 },
  linkname: { offset: 157, length: 100 },
  magic: { offset: 257, length: 6 },
  version: { offset: 263, length: 2 },
  uname: { offset: 265, length: 32 },
  gname: { offset: 297, length: 32 },
  devmajor: { offset: 329, length: 8 },
  devminor: { offset: 337, length: 8 },
  prefix: { offset: 345, length: 155 },
} as const;

/** Type flags (header byte 156) this library knows. */
export const TAR_TYPE = {
  /** Regular file. */
  file: "0",
  /** Regular file written by pre-POSIX tars (a NUL byte). */
  fileOld: "\0",
  hardlink: "1",
  symlink: "2",
  characterDevice: "3",
  blockDevice: "4",
  directory: "5",
  fifo: "6",
  /** Contiguous file: a regular file everywhere that matters. */
  contiguous: "7",
  /** PAX extended header for the next entry. */
  paxExtended: "x",
  /** PAX global extended header for all following entries. */
  paxGlobal: "g",
  /** GNU long name for the next entry (body: the name). */
  gnuLongName: "L",
  /** GNU long link target for the next entry (body: the target). */
  gnuLongLink: "K",
} as const;

/** `ustar\0` + `00`: POSIX ustar and pax archives (the prefix field is a path prefix). */
export const USTAR_MAGIC = "ustar\u000000";
/** `ustar  \0`: GNU tar's own format (the prefix area holds GNU fields instead). */
export const GNU_MAGIC = "ustar  \u0000";

/** PAX key apk-tools (via `abuild-tar --hash`) uses for a file's SHA-1, in hex. */
export const PAX_APK_CHECKSUM_SHA1 = "APK-TOOLS.checksum.SHA1";
/** Prefix of PAX keys carrying extended attributes (`SCHILY.xattr.<name>`). */
export const PAX_XATTR_PREFIX = "SCHILY.xattr.";

/** The fields of a header block as stored, before PAX or GNU records override them. */
export interface RawTarHeader {
  /** Name field (joined with the ustar prefix when the header is POSIX ustar). */
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  /** Which header layout the magic says: POSIX ustar, GNU, or old V7 (no magic). */
  readonly format: "ustar" | "gnu" | "v7";
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

/** One PAX record; the value is kept as bytes because `SCHILY.xattr.*` values are binary. */
export interface PaxRecord {
  readonly key: string;
  readonly value: Uint8Array;
}

const utf8 = new TextDecoder("utf-8");

/** Whether every byte of the block is zero (an end-of-archive marker). */
export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * The header checksum of a block: the sum of its bytes with the checksum
 * field counted as eight spaces. `signed` is the sum some historic tars
 * computed over signed chars; readers accept either.
 */
export function tarHeaderChecksum(block: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  const { offset, length } = TAR_FIELDS.checksum;
  for (let i = 0; i < TAR_BLOCK_SIZE; i++) {
    const byte = i >= offset && i < offset + length ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return { unsigned, signed };
}

/** Whether the block's stored checksum matches its contents. */
export function verifyTarHeaderChecksum(block: Uint8Array): boolean {
  const stored = parseTarNumber(block, TAR_FIELDS.checksum.offset, TAR_FIELDS.checksum.length);
  if (stored === undefined) return false;
  const { unsigned, signed } = tarHeaderChecksum(block);
  return stored === unsigned || stored === signed;
}

/**
 * A numeric header field: octal digits (optionally space-padded, ended by a
 * NUL or space) or, when the first byte has its high bit set, GNU base-256.
 * An all-blank field is 0. Returns `undefined` when the field is not a
 * number or not a safe non-negative integer.
 */
export function parseTarNumber(
  block: Uint8Array,
  offset: number,
  length: number,
): number | undefined {
  const first = block[offset] ?? 0;
  if (first === 0x80) {
    let value = 0;
    for (let i = 1; i < length; i++) value = value * 256 + (block[offset + i] ?? 0);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  if (first >= 0x80) return undefined; // negative base-256 or garbage
  let i = offset;
  const end = offset + length;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const byte = block[i] ?? 0;
    if (byte >= 0x30 && byte <= 0x37) {
      value = value * 8 + (byte - 0x30);
      digits++;
    } else break;
  }
  for (; i < end; i++) {
    const byte = block[i];
    if (byte !== 0 && byte !== 0x20) return undefined;
  }
  if (digits === 0) return 0;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A text field up to its first NUL, decoded as UTF-8. */
export function parseTarString(block: Uint8Array, offset: number, length: number): string {
  let end = offset;
  const limit = offset + length;
  while (end < limit && block[end] !== 0) end++;
  return utf8.decode(block.subarray(offset, end));
}

/**
 * Parses one header block. The checksum is not checked here (see
 * {@link verifyTarHeaderChecksum}).
 * @throws TarError naming the entry when a numeric field is not a number.
 */
export function parseTarHeader(block: Uint8Array): RawTarHeader {
  const f = TAR_FIELDS;
  const magic = String.fromCharCode(...block.subarray(f.magic.offset, f.magic.offset + 8));
  const format = magic === GNU_MAGIC ? "gnu" : magic.startsWith("ustar\0") ? "ustar" : "v7";
  let name = parseTarString(block, f.name.offset, f.name.length);
  if (format === "ustar") {
    const prefix = parseTarString(block, f.prefix.offset, f.prefix.length);
    if (prefix !== "") name = `${prefix}/${name}`;
  }
  const number = (field: keyof typeof TAR_FIELDS) => {
    const value = parseTarNumber(block, f[field].offset, f[field].length);
    if (value === undefined) {
      throw new TarError(`header field ${field} is not a valid number`, { entry: name });
    }
    return value;
  };
  const typeByte = block[f.typeflag.offset] ?? 0;
  return {
    name,
    mode: number("mode"),
    uid: number("uid"),
    gid: number("gid"),
    size: number("size"),
    mtime: number("mtime"),
    typeflag: String.fromCharCode(typeByte),
    linkname: parseTarString(block, f.linkname.offset, f.linkname.length),
    format,
    uname: parseTarString(block, f.uname.offset, f.uname.length),
    gname: parseTarString(block, f.gname.offset, f.gname.length),
    devmajor: format === "v7" ? 0 : number("devmajor"),
    devminor: format === "v7" ? 0 : number("devminor"),
  };
}

/**
 * Parses the body of a PAX extended header into its records, in order.
 * @throws TarError when a record's length or layout is wrong.
 */
export function parsePaxRecords(body: Uint8Array): PaxRecord[] {
  const records: PaxRecord[] = [];
  let at = 0;
  while (at < body.length) {
    // Some writers pad the body with NULs after the last record.
    if (body[at] === 0) break;
    const space = body.indexOf(0x20, at);
    if (space < 0 || space - at > 20) throw new TarError("malformed PAX record: no length");
    const lengthText = utf8.decode(body.subarray(at, space));
    if (!/^[0-9]+$/.test(lengthText)) throw new TarError("malformed PAX record length");
    const length = Number(lengthText);
    const end = at + length;
    if (length <= space - at + 1 || end > body.length || body[end - 1] !== 0x0a) {
      throw new TarError("malformed PAX record: length does not match");
    }
    const equals = body.indexOf(0x3d, space + 1);
    if (equals < 0 || equals >= end - 1) throw new TarError("malformed PAX record: no '='");
    const key = utf8.decode(body.subarray(space + 1, equals));
    if (key === "") throw new TarError("malformed PAX record: empty key");
    records.push({ key, value: body.slice(equals + 1, end - 1) });
    at = end;
  }
  return records;
}

/** Encodes one PAX record, `"<length> <key>=<value>\n"`, where length counts itself. */
export function encodePaxRecord(key: string, value: string | Uint8Array): Uint8Array {
  const keyBytes = Buffer.from(key, "utf8");
  const valueBytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const rest = keyBytes.length + valueBytes.length + 3; // space, '=', newline
  // The length prefix counts its own digits; one extra digit may be needed.
  let length = rest + String(rest).length;
  if (String(length).length !== String(rest).length) length = rest + String(length).length;
  const out = new Uint8Array(length);
  const prefix = Buffer.from(`${length} `, "ascii");
  out.set(prefix, 0);
  out.set(keyBytes, prefix.length);
  out[prefix.length + keyBytes.length] = 0x3d;
  out.set(valueBytes, prefix.length + keyBytes.length + 1);
  out[length - 1] = 0x0a;
  return out;
}
