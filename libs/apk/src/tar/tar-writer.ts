/**
 * Deterministic tar writer for the three tar dialects found in APK files:
 * GNU tar's POSIX format as abuild runs it (control and data streams),
 * GNU tar's default format (the signature stream abuild-sign writes) and the
 * format apk-tools' own writer uses (APKINDEX.tar.gz, scripts.tar).
 *
 * Nothing here reads a clock or the file system: every owner, mode and time
 * comes from the caller, so the same entries always give the same bytes.
 */
import { createHash } from "node:crypto";
import { LimitExceededError, TarError, UnsafeEntryError } from "../errors.js";
import {
  encodePaxRecord,
  GNU_MAGIC,
  PAX_APK_CHECKSUM_SHA1,
  TAR_BLOCK_SIZE,
  TAR_FIELDS,
  USTAR_MAGIC,
} from "./tar-header.js";

/** Kind of a tar entry this writer can produce. */
export type TarWriterEntryType = "file" | "directory" | "symlink" | "hardlink";

/**
 * Header dialect.
 * - `"posix"`: GNU tar `--format=posix` as abuild runs it: `ustar\0` + `00`
 *   magic, NUL-terminated octal numbers, PAX extended headers named
 *   `<dir>/PaxHeaders/<base>` for anything a ustar header cannot hold.
 * - `"gnu"`: GNU tar's default (`ustar  \0` magic, empty device fields, GNU
 *   long-name entries): what abuild-sign produces for `.SIGN.*` entries.
 * - `"apk"`: apk-tools' own writer (`ustar  \0`, 12-digit size and mtime
 *   without terminator): what `apk index` writes into APKINDEX.tar.gz.
 */
export type TarHeaderStyle = "posix" | "gnu" | "apk";

/** One entry to write. Owner and time default to root:root and the writer's `mtime`. */
export interface TarWriterEntry {
  /** Path inside the archive; a leading `/` or `./` is dropped, directories get their trailing `/` added. */
  readonly path: string;
  /** What the entry is. */
  readonly type: TarWriterEntryType;
  /** Permission bits (`0o755`); file-type bits above `0o7777` are ignored. */
  readonly mode: number;
  /** Numeric owner. @default 0 */
  readonly uid?: number;
  /** Numeric group. @default 0 */
  readonly gid?: number;
  /** Owner name. @default "root" */
  readonly uname?: string;
  /** Group name. @default "root" */
  readonly gname?: string;
  /** Modification time in seconds since the epoch. @default the writer's `mtime` */
  readonly mtime?: number;
  /** Bytes of a regular file; must be absent or empty for other types. */
  readonly content?: Uint8Array;
  /** Target of a symlink (kept as given) or of a hard link (an archive path). */
  readonly linkTarget?: string;
  /** Extra PAX records, in order (posix style only), e.g. `SCHILY.xattr.*` (binary values allowed). */
  readonly pax?: readonly (readonly [key: string, value: string | Uint8Array])[];
}

/** How to write the archive. */
export interface TarWriterOptions {
  /** Header dialect. @default "posix" */
  readonly style?: TarHeaderStyle;
  /**
   * Leave out the end-of-archive blocks, as `abuild-tar --cut` does for the
   * signature and control streams: apk reads those streams as the front part
   * of one longer tar. @default false
   */
  readonly cut?: boolean;
  /**
   * Pad the finished archive to a multiple of this many bytes (GNU tar pads
   * to 10240). Ignored when `cut`. @default 512
   */
  readonly recordSize?: number;
  /**
   * Add `APK-TOOLS.checksum.SHA1` PAX records to regular files (digest of the
   * content) and symlinks (digest of the target), plus the legacy digest in
   * the link-name field of regular files, exactly as `abuild-tar --hash` does.
   * apk-tools records these per-file checksums in its installed database.
   * Needs the posix style. @default false
   */
  readonly checksums?: boolean;
  /**
   * Add the `ctime=0` and `atime=0` records abuild asks GNU tar for
   * (`--pax-option=atime:=0,ctime:=0`) to every entry. Needs the posix style.
   * @default false
   */
  readonly zeroTimes?: boolean;
  /** Sort entries by path (byte order, as `LC_ALL=C sort`) instead of keeping the given order. @default false */
  readonly sort?: boolean;
  /** Modification time of entries that have none. @default 0 */
  readonly mtime?: number;
}

const BLOCK = TAR_BLOCK_SIZE;
const encoder = new TextEncoder();

/**
 * Writes `entries` as one tar archive and returns its bytes. Same entries and
 * options always give the same bytes.
 * @throws UnsafeEntryError for a path with `..` components.
 * @throws TarError for an empty or duplicated path, or a field a header cannot hold.
 */
export function writeTar(
  entries: Iterable<TarWriterEntry>,
  options: TarWriterOptions = {},
): Uint8Array {
  const style = options.style ?? "posix";
  if ((options.checksums === true || options.zeroTimes === true) && style !== "posix") {
    throw new TarError(`checksums and zero times need PAX headers, which the ${style} style lacks`);
  }
  const prepared = [...entries].map((entry) => prepare(entry, options.mtime ?? 0));
  if (options.sort === true) prepared.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));

  const seen = new Set<string>();
  const chunks: Uint8Array[] = [];
  for (const entry of prepared) {
    if (seen.has(entry.path)) {
      throw new TarError("the same path is written twice", { entry: entry.path });
    }
    seen.add(entry.path);
    writeEntry(chunks, entry, style, options);
  }

  let length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  if (options.cut !== true) {
    chunks.push(new Uint8Array(2 * BLOCK));
    length += 2 * BLOCK;
    const record = options.recordSize ?? BLOCK;
    if (!Number.isInteger(record) || record <= 0 || record % BLOCK !== 0) {
      throw new TarError(`record size ${record} is not a positive multiple of ${BLOCK}`);
    }
    const padding = (record - (length % record)) % record;
    if (padding > 0) {
      chunks.push(new Uint8Array(padding));
      length += padding;
    }
  }
  return concat(chunks, length);
}

interface PreparedEntry {
  readonly path: string;
  readonly sortKey: Buffer;
  readonly headerName: string;
  readonly type: TarWriterEntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: number;
  readonly content: Uint8Array;
  readonly linkTarget: string;
  readonly pax: readonly (readonly [string, string | Uint8Array])[];
}

/**
 * An archive path without leading `/` or `./`, without trailing `/`.
 * @throws UnsafeEntryError when it climbs out with `..`; TarError when empty or holding NUL.
 */
export function normalizeArchivePath(path: string, what = "path"): string {
  if (path.includes("\0")) throw new TarError(`${what} holds a NUL byte`, { entry: path });
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) {
    throw new UnsafeEntryError(`${what} climbs out of the archive root with ".."`, {
      entry: path,
    });
  }
  if (parts.length === 0) throw new TarError(`${what} is empty`, { entry: path });
  return parts.join("/");
}

function prepare(entry: TarWriterEntry, defaultMtime: number): PreparedEntry {
  const path = normalizeArchivePath(entry.path);
  if (!Object.hasOwn(TYPE_FLAGS, entry.type)) {
    throw new TarError(`entry type "${String(entry.type)}" cannot be written`, { entry: path });
  }
  if (!Number.isInteger(entry.mode) || entry.mode < 0) {
    throw new TarError(`mode ${entry.mode} is not a non-negative integer`, { entry: path });
  }
  const content = entry.content ?? new Uint8Array(0);
  if (entry.type !== "file" && content.length > 0) {
    throw new TarError(`a ${entry.type} cannot have content`, { entry: path });
  }
  let linkTarget = "";
  if (entry.type === "symlink" || entry.type === "hardlink") {
    if (entry.linkTarget === undefined || entry.linkTarget === "") {
      throw new TarError(`a ${entry.type} needs a link target`, { entry: path });
    }
    if (entry.linkTarget.includes("\0")) {
      throw new TarError("link target holds a NUL byte", { entry: path });
    }
    linkTarget =
      entry.type === "hardlink"
        ? normalizeArchivePath(entry.linkTarget, "hard link target")
        : entry.linkTarget;
  }
  return {
    path,
    sortKey: Buffer.from(path, "utf8"),
    headerName: entry.type === "directory" ? `${path}/` : path,
    type: entry.type,
    // File-type bits (0o100000 and up) are carried by the type flag instead.
    mode: entry.mode & 0o7777,
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    uname: entry.uname ?? "root",
    gname: entry.gname ?? "root",
    mtime: Math.max(0, Math.floor(entry.mtime ?? defaultMtime)),
    content,
    linkTarget,
    pax: entry.pax ?? [],
  };
}

const TYPE_FLAGS: Record<TarWriterEntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  directory: "5",
};

function writeEntry(
  chunks: Uint8Array[],
  entry: PreparedEntry,
  style: TarHeaderStyle,
  options: TarWriterOptions,
): void {
  const name = encoder.encode(entry.headerName);
  const link = encoder.encode(entry.linkTarget);
  const location = { entry: entry.path };
  if (entry.content.length > MAX_OCTAL_11) {
    // apk-tools reads only octal sizes: no PAX size, no GNU base-256.
    throw new LimitExceededError(
      `${entry.content.length} bytes is more than a tar header apk reads can hold`,
      location,
    );
  }

  let legacyDigest: Uint8Array | undefined;
  if (style === "posix") {
    const records: [string, string | Uint8Array][] = [];
    if (name.length > 100) records.push(["path", entry.headerName]);
    if (link.length > 100) records.push(["linkpath", entry.linkTarget]);
    for (const record of entry.pax) records.push([record[0], record[1]]);
    // GNU tar appends --pax-option overrides after its own records, newest option first.
    if (options.zeroTimes === true) records.push(["ctime", "0"], ["atime", "0"]);
    if (options.checksums === true && (entry.type === "file" || entry.type === "symlink")) {
      const digest = createHash("sha1")
        .update(entry.type === "file" ? entry.content : link)
        .digest();
      records.push([PAX_APK_CHECKSUM_SHA1, digest.toString("hex")]);
      if (entry.type === "file") legacyDigest = digest;
    }
    if (records.length > 0) {
      const body = encodePaxRecords(records, location);
      chunks.push(
        header(
          {
            name: truncate(encoder.encode(paxHeaderName(entry.path)), 100),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: body.length,
            mtime: entry.mtime,
            typeflag: "x",
            linkname: new Uint8Array(0),
            uname: "",
            gname: "",
            devices: false,
          },
          style,
          location,
        ),
      );
      pushPadded(chunks, body);
    }
  } else {
    if (entry.pax.length > 0) {
      throw new TarError(`PAX records need the posix style, not ${style}`, location);
    }
    // GNU long-name entries: apk-tools and GNU tar use them above 99 bytes.
    if (name.length > 99) pushLongName(chunks, "L", name, style, location);
    if (link.length > 99) pushLongName(chunks, "K", link, style, location);
  }

  const linkField =
    legacyDigest === undefined ? truncate(link, 100) : legacyLinkField(legacyDigest);
  chunks.push(
    header(
      {
        name: truncate(name, 100),
        mode: entry.mode,
        uid: entry.uid,
        gid: entry.gid,
        size: entry.content.length,
        mtime: entry.mtime,
        typeflag: TYPE_FLAGS[entry.type],
        linkname: linkField,
        uname: entry.uname,
        gname: entry.gname,
        devices: style === "posix",
      },
      style,
      location,
    ),
  );
  if (entry.content.length > 0) pushPadded(chunks, entry.content);
}

/** `dir/PaxHeaders/base`, the name abuild's `exthdr.name=%d/PaxHeaders/%f` gives. */
function paxHeaderName(path: string): string {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash);
  return `${dir}/PaxHeaders/${path.slice(slash + 1)}`;
}

/**
 * abuild-tar's legacy per-file digest in the link-name field: three NUL
 * bytes, "APK2", the OpenSSL digest id (64 = SHA-1) and length as
 * little-endian 16-bit numbers, then the digest. Old apk versions read it.
 */
function legacyLinkField(digest: Uint8Array): Uint8Array {
  const field = new Uint8Array(3 + 8 + digest.length);
  field.set(encoder.encode("APK2"), 3);
  const view = new DataView(field.buffer);
  view.setUint16(7, 64, true);
  view.setUint16(9, digest.length, true);
  field.set(digest, 11);
  return field;
}

function pushLongName(
  chunks: Uint8Array[],
  typeflag: "L" | "K",
  value: Uint8Array,
  style: TarHeaderStyle,
  location: { entry: string },
): void {
  const body = new Uint8Array(value.length + 1);
  body.set(value);
  chunks.push(
    header(
      {
        name: encoder.encode("././@LongLink"),
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: body.length,
        mtime: 0,
        typeflag,
        linkname: new Uint8Array(0),
        uname: "root",
        gname: "root",
        devices: false,
      },
      style,
      location,
    ),
  );
  pushPadded(chunks, body);
}

function encodePaxRecords(
  records: readonly (readonly [string, string | Uint8Array])[],
  location: { entry: string },
): Uint8Array {
  const parts = records.map(([key, value]) => {
    if (key === "" || key.includes("=") || key.includes("\n")) {
      throw new TarError(`PAX key "${key}" is not valid`, location);
    }
    return encodePaxRecord(key, value);
  });
  return concat(
    parts,
    parts.reduce((sum, part) => sum + part.length, 0),
  );
}

interface HeaderFields {
  readonly name: Uint8Array;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: Uint8Array;
  readonly uname: string;
  readonly gname: string;
  /** Write "0000000" device numbers (GNU posix format does for real entries). */
  readonly devices: boolean;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

function header(
  fields: HeaderFields,
  style: TarHeaderStyle,
  location: { entry: string },
): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block.set(fields.name, 0);
  putOctal(block, 100, 8, fields.mode, true, "mode", location);
  putOctal(block, 108, 8, fields.uid, true, "uid", location);
  putOctal(block, 116, 8, fields.gid, true, "gid", location);
  // apk-tools fills size and mtime with 12 digits and no terminator.
  const terminated = style !== "apk";
  putOctal(block, 124, 12, fields.size, terminated, "size", location);
  putOctal(block, 136, 12, Math.min(fields.mtime, MAX_OCTAL_11), terminated, "mtime", location);
  block[156] = fields.typeflag.charCodeAt(0);
  block.set(fields.linkname, 157);
  block.set(encoder.encode(style === "posix" ? USTAR_MAGIC : GNU_MAGIC), TAR_FIELDS.magic.offset);
  putName(block, 265, fields.uname, "uname", location);
  putName(block, 297, fields.gname, "gname", location);
  if (fields.devices) {
    putOctal(block, 329, 8, 0, true, "devmajor", location);
    putOctal(block, 337, 8, 0, true, "devminor", location);
  }
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  // Six digits, NUL, space: what GNU tar, abuild-tar and apk-tools all write.
  block.set(encoder.encode(`${sum.toString(8).padStart(6, "0")}\u0000 `), 148);
  return block;
}

function putOctal(
  block: Uint8Array,
  offset: number,
  width: number,
  value: number,
  terminated: boolean,
  field: string,
  location: { entry: string },
): void {
  const digits = terminated ? width - 1 : width;
  const max = digits === 7 ? MAX_OCTAL_7 : digits === 11 ? MAX_OCTAL_11 : 0o777777777777;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new TarError(`${field} ${value} does not fit a tar header`, { ...location, field });
  }
  block.set(encoder.encode(value.toString(8).padStart(digits, "0")), offset);
}

function putName(
  block: Uint8Array,
  offset: number,
  value: string,
  field: string,
  location: { entry: string },
): void {
  const bytes = encoder.encode(value);
  if (bytes.length > 32) {
    throw new TarError(`${field} "${value}" is longer than 32 bytes`, { ...location, field });
  }
  block.set(bytes, offset);
}

function truncate(bytes: Uint8Array, length: number): Uint8Array {
  return bytes.length <= length ? bytes : bytes.subarray(0, length);
}

function pushPadded(chunks: Uint8Array[], data: Uint8Array): void {
  chunks.push(data);
  const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
  if (padding > 0) chunks.push(new Uint8Array(padding));
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
