/**
 * Streaming tar reader for the archives inside APK files: ustar, GNU (long
 * names, base-256 numbers) and PAX (extended and global headers, including
 * apk's `APK-TOOLS.checksum.SHA1` and `SCHILY.xattr.*` records). Archives
 * may stop without end-of-archive blocks, as apk's signature and control
 * streams do. Every entry is checked before it is handed out: a path that
 * is absolute, climbs with `..`, is an OCI whiteout, passes through an
 * earlier symlink or non-directory, repeats an earlier path (unless both are
 * directories), a symlink that escapes the root or climbs with `..` after a
 * normal component, a hard link to anything but an earlier file, or a device
 * node is refused.
 *
 * The data segment of a package is reused verbatim as an OCI layer, so
 * headers that apk-tools and other tar readers (Go's archive/tar, GNU tar,
 * Python) would read differently are refused as well: content on anything
 * but a regular file, PAX global headers that rename or resize entries,
 * GNU long-link (`K`) and sparse headers, a PAX `size` that differs from the
 * header's, a header whose name field is empty (apk's end-of-archive test)
 * and GNU or V7 headers with data in the ustar prefix area. Other PAX global
 * records are ignored, as apk-tools ignores them.
 */
import {
  ApkError,
  type ApkErrorLocation,
  LimitExceededError,
  TarError,
  UnsafeEntryError,
} from "../errors.js";
import {
  DEFAULT_MAX_EXPANSION_RATIO,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  type GzipMember,
  readGzipMembers,
} from "../gzip/gzip-members.js";
import { GzipSegmentReader } from "../gzip/gzip-segments.js";
import {
  isZeroBlock,
  PAX_APK_CHECKSUM_SHA1,
  PAX_XATTR_PREFIX,
  parsePaxRecords,
  parseTarHeader,
  parseTarString,
  type RawTarHeader,
  TAR_BLOCK_SIZE,
  TAR_FIELDS,
  TAR_TYPE,
  verifyTarHeaderChecksum,
} from "./tar-header.js";

/** Size and count limits applied while reading packages and archives. */
export interface ReadLimits {
  /**
   * Most bytes the gzip members of one input may inflate to.
   * @default 4294967296 (4 GiB)
   */
  maxUncompressedBytes: number;
  /**
   * Highest inflated-to-compressed ratio, enforced once more than 8 MiB
   * have been inflated.
   * @default 100
   */
  maxExpansionRatio: number;
  /**
   * Most entries in one tar stream.
   * @default 1000000
   */
  maxEntries: number;
  /**
   * Largest `.PKGINFO`.
   * @default 1048576 (1 MiB)
   */
  maxPkginfoBytes: number;
  /**
   * Largest inflated signature or control stream.
   * @default 16777216 (16 MiB)
   */
  maxControlBytes: number;
  /**
   * Longest entry path or link target, in UTF-8 bytes.
   * @default 4096
   */
  maxPathBytes: number;
}

/** The limits used when a caller gives none. */
export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxUncompressedBytes: DEFAULT_MAX_UNCOMPRESSED_BYTES,
  maxExpansionRatio: DEFAULT_MAX_EXPANSION_RATIO,
  maxEntries: 1_000_000,
  maxPkginfoBytes: 1024 * 1024,
  maxControlBytes: 16 * 1024 * 1024,
  maxPathBytes: 4096,
});

/**
 * {@link DEFAULT_READ_LIMITS} with the given overrides.
 * @throws RangeError when an override is not a positive number.
 */
export function resolveReadLimits(limits: Partial<ReadLimits> = {}): ReadLimits {
  const resolved = { ...DEFAULT_READ_LIMITS };
  for (const key of Object.keys(DEFAULT_READ_LIMITS) as (keyof ReadLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
      throw new RangeError(`read limit ${key} must be a positive number, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  return resolved;
}

/** Kind of a tar entry. Device nodes and FIFOs are only reported when allowed. */
export type TarEntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "character-device"
  | "block-device"
  | "fifo";

/** One tar entry's metadata, after PAX and GNU records are applied. */
export interface TarEntry {
  /** Normalised path: no leading `./` or `/`, no trailing `/`; the root directory is `.`. */
  readonly path: string;
  /** What the entry is. */
  readonly type: TarEntryType;
  /** Permission bits, `mode & 0o7777`. */
  readonly mode: number;
  /** Numeric owner. */
  readonly uid: number;
  /** Numeric group. */
  readonly gid: number;
  /** Owner name, when the header has one. */
  readonly uname?: string;
  /** Group name, when the header has one. */
  readonly gname?: string;
  /** Modification time, whole seconds since the epoch. */
  readonly mtime: number;
  /** Bytes of content that follow (0 for everything but regular files). */
  readonly size: number;
  /** Symlink target as stored, or a hard link's target as a normalised archive path. */
  readonly linkTarget?: string;
  /** Device numbers of character and block devices. */
  readonly devMajor?: number;
  /** Device numbers of character and block devices. */
  readonly devMinor?: number;
  /** The `APK-TOOLS.checksum.SHA1` PAX record as stored (hex SHA-1 of the content). */
  readonly checksum?: string;
  /**
   * Extended attributes from `SCHILY.xattr.<name>` records. Values are
   * binary in general, so each is kept as a latin1 string: one character
   * per byte (`Buffer.from(value, "latin1")` gives the bytes back).
   */
  readonly xattrs?: Readonly<Record<string, string>>;
  /**
   * The records of the entry's own PAX extended header, decoded as UTF-8
   * (global `g` records are not applied, as apk-tools does not apply them).
   */
  readonly pax?: Readonly<Record<string, string>>;
  /** Offset in the tar stream of the entry's first header (including its PAX or GNU headers). */
  readonly offset: number;
}

/** An entry and its content; `body` can be read once, before asking for the next entry. */
export interface TarStreamEntry {
  /** The entry's metadata. */
  readonly entry: TarEntry;
  /** The content as chunks; skipped automatically when not read. */
  readonly body: AsyncIterable<Uint8Array>;
}

/** Options of {@link readTar}. */
export interface TarReadOptions {
  /** Most entries to accept. @default 1000000 */
  readonly maxEntries?: number;
  /** Longest path or link target in UTF-8 bytes. @default 4096 */
  readonly maxPathBytes?: number;
  /** Report character and block devices and FIFOs instead of refusing them. @default false */
  readonly allowSpecialFiles?: boolean;
  /** Added to every error's location (typically `{ file }`). */
  readonly location?: ApkErrorLocation;
}

// PAX headers may carry extended attributes but never legitimately approach this.
const MAX_PAX_HEADER_BYTES = 1024 * 1024;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder("utf-8");

/**
 * Reads a tar stream entry by entry. Each entry's body must be read (or
 * not) before the next entry is requested; unread bodies are skipped. After
 * the end-of-archive marker the rest of the input is read (so a caller
 * hashing the input sees all of it) and must be zeros.
 *
 * @throws TarError on a bad header checksum (naming the entry), a truncated
 *   header or body, a malformed number or PAX record, an unsupported type.
 * @throws UnsafeEntryError on an unsafe path, link or (unless allowed) device node.
 * @throws LimitExceededError when `maxEntries` or `maxPathBytes` is exceeded.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  options: TarReadOptions = {},
): AsyncGenerator<TarStreamEntry, void, undefined> {
  const maxEntries = options.maxEntries ?? DEFAULT_READ_LIMITS.maxEntries;
  const maxPathBytes = options.maxPathBytes ?? DEFAULT_READ_LIMITS.maxPathBytes;
  const base = options.location ?? {};
  const reader = new ByteReader(source);
  const kinds = new Map<string, TarEntryType>();
  let count = 0;
  try {
    for (;;) {
      const offset = reader.position;
      const parsed = await readHeaders(reader, maxPathBytes, base);
      if (parsed === undefined) break;
      const { header, records, longName } = parsed;
      const at = (entry: string): ApkErrorLocation => ({ ...base, entry, offset });

      const rawPath = text(records, "path") ?? longName ?? header.name;
      if (Buffer.byteLength(rawPath) > maxPathBytes) {
        throw new LimitExceededError(`path is longer than ${maxPathBytes} bytes (maxPathBytes)`, {
          ...at(rawPath.slice(0, 200)),
        });
      }
      count++;
      if (count > maxEntries) {
        throw new LimitExceededError(`more than ${maxEntries} entries (maxEntries)`, at(rawPath));
      }
      const entry = buildEntry(header, records, rawPath, offset, at(rawPath), options);
      checkPlacement(entry, kinds, at(entry.path));
      recordPlacement(entry, kinds);

      const hasBody = entry.type === "file";
      const state = { remaining: hasBody ? entry.size : 0, open: true, started: false };
      const body: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: () => readBody(reader, state, at(entry.path)),
      };
      yield { entry, body };
      state.open = false;
      if (state.remaining > 0) {
        const skipped = await reader.skip(state.remaining);
        if (skipped < state.remaining) throw truncatedBody(at(entry.path));
      }
      if (hasBody) await skipPadding(reader, entry.size, at(entry.path));
    }
    // GNU tar pads archives with zeros to 10 KiB; anything else after the end
    // marker would be hidden data (apk-tools refuses it too).
    const hidden = await reader.drainZeros();
    if (hidden !== undefined) {
      throw new TarError("non-zero data after the end-of-archive marker", {
        ...base,
        offset: hidden,
      });
    }
  } catch (error) {
    throw relocate(error, base);
  } finally {
    await reader.close();
  }
}

/** A file of an in-memory gzip'd tar, with its content and the gzip member it came from. */
export interface TarGzipFile {
  /** The entry's metadata. */
  readonly entry: TarEntry;
  /** The entry's content (empty for everything but files). */
  readonly content: Uint8Array;
  /** Index of the gzip member whose tar stream holds the entry. */
  readonly member: number;
}

/** Everything {@link readTarGzip} found. */
export interface TarGzipContents {
  /** The gzip members with their exact byte ranges (to check a signature over a member). */
  readonly members: readonly GzipMember[];
  /** The entries of all members, in order. */
  readonly files: readonly TarGzipFile[];
}

/** Options of {@link readTarGzip}. */
export interface ReadTarGzipOptions {
  /** Name of the input, added to every error. */
  readonly file?: string;
  /** Limits; the whole content is kept in memory, so keep `maxUncompressedBytes` sensible. */
  readonly limits?: Partial<ReadLimits>;
  /** Report device nodes and FIFOs instead of refusing them. @default false */
  readonly allowSpecialFiles?: boolean;
}

/**
 * Reads a small gzip'd tar held in memory (an APKINDEX.tar.gz, say) into
 * entries with their contents. Each gzip member is read as its own tar
 * stream, end-of-archive blocks optional, the way apk frames a signature
 * member before the signed member; an entry must not straddle members.
 *
 * @throws GzipError, TarError, UnsafeEntryError or LimitExceededError, each
 *   naming `options.file`.
 */
export async function readTarGzip(
  bytes: Uint8Array,
  options: ReadTarGzipOptions = {},
): Promise<TarGzipContents> {
  const limits = resolveReadLimits(options.limits);
  const location: ApkErrorLocation = options.file === undefined ? {} : { file: options.file };
  const segments = new GzipSegmentReader(readGzipMembers(bytes, limits));
  const members: GzipMember[] = [];
  const files: TarGzipFile[] = [];
  try {
    for (let member = 0; await segments.hasMember(); member++) {
      const data = segments.segment(1, { onMemberEnd: (m) => members.push(m) });
      const entries = readTar(data, {
        maxEntries: Math.max(1, limits.maxEntries - files.length),
        maxPathBytes: limits.maxPathBytes,
        allowSpecialFiles: options.allowSpecialFiles ?? false,
        location,
      });
      for await (const { entry, body } of entries) {
        const parts: Uint8Array[] = [];
        for await (const chunk of body) parts.push(chunk);
        files.push({ entry, content: concat(parts), member });
      }
      await segments.finishSegment(data);
    }
  } catch (error) {
    throw relocate(error, location);
  } finally {
    await segments.close();
  }
  return { members, files };
}

interface ParsedHeaders {
  readonly header: RawTarHeader;
  readonly records: Map<string, Uint8Array>;
  readonly longName: string | undefined;
}

/**
 * PAX keys a global header must not set: readers that apply global records
 * (GNU tar, Python) would rename, relink or resize every later entry, while
 * apk-tools and Go ignore them.
 */
const GLOBAL_PAX_FORBIDDEN = new Set(["path", "linkpath", "size"]);
/** PAX keys of GNU sparse files: GNU tar renames and re-reads the body by them, apk does not. */
const GNU_SPARSE_PREFIX = "GNU.sparse.";

/** Reads PAX and GNU headers up to and including the next real entry's header. */
async function readHeaders(
  reader: ByteReader,
  maxPathBytes: number,
  base: ApkErrorLocation,
): Promise<ParsedHeaders | undefined> {
  let local: Map<string, Uint8Array> | undefined;
  let longName: string | undefined;
  const pendingMeta = () => local !== undefined || longName !== undefined;
  for (;;) {
    const offset = reader.position;
    const block = await reader.read(TAR_BLOCK_SIZE);
    if (block.length === 0 || (block.length === TAR_BLOCK_SIZE && isZeroBlock(block))) {
      if (pendingMeta()) {
        throw new TarError("archive ends right after an extended header", { ...base, offset });
      }
      if (block.length > 0) {
        // apk-tools reads on past a single zero block, other readers stop:
        // entries after one would be seen by some and not others.
        const next = await reader.read(TAR_BLOCK_SIZE);
        if (!isZeroBlock(next)) {
          throw new TarError(
            "a lone zero block inside the archive: entries follow the end marker",
            {
              ...base,
              offset,
            },
          );
        }
      }
      return undefined; // end of archive, with or without end blocks
    }
    const name = parseTarString(block, TAR_FIELDS.name.offset, TAR_FIELDS.name.length);
    if (block.length < TAR_BLOCK_SIZE) {
      throw new TarError("archive is truncated inside a header", { ...base, entry: name, offset });
    }
    if (!verifyTarHeaderChecksum(block)) {
      throw new TarError("header checksum mismatch (not a tar header, or corrupt)", {
        ...base,
        entry: name,
        offset,
      });
    }
    const header = relocated(() => parseTarHeader(block), { ...base, entry: name, offset });
    const at = { ...base, entry: header.name, offset };
    if (block[TAR_FIELDS.name.offset] === 0) {
      // apk-tools takes any header whose name starts with NUL for an end
      // record and skips it, whatever its type, prefix or size.
      throw new TarError(
        "header has an empty name field (apk-tools reads it as an end-of-archive block)",
        at,
      );
    }
    if (header.format !== "ustar" && !isZeroRange(block, PREFIX_START, PREFIX_END)) {
      // apk-tools joins the prefix field to the name whatever the magic says;
      // GNU tar and V7 readers do not.
      throw new TarError(
        `${header.format === "gnu" ? "GNU" : "V7"} header has data in the ustar prefix field`,
        at,
      );
    }
    switch (header.typeflag) {
      case TAR_TYPE.paxExtended:
        local ??= new Map();
        for (const record of await readPax(reader, header.size, at)) {
          if (record.key.startsWith(GNU_SPARSE_PREFIX)) {
            throw new TarError(`PAX record ${record.key}: sparse files are not supported`, at);
          }
          local.set(record.key, record.value);
        }
        break;
      case TAR_TYPE.paxGlobal:
        // Ignored, as apk-tools does; refused when it would change later entries.
        for (const record of await readPax(reader, header.size, at)) {
          if (GLOBAL_PAX_FORBIDDEN.has(record.key) || record.key.startsWith(GNU_SPARSE_PREFIX)) {
            throw new TarError(
              `PAX global header sets ${record.key}, which readers apply differently`,
              at,
            );
          }
        }
        break;
      case TAR_TYPE.gnuLongName:
        longName = await readLongName(reader, header.size, maxPathBytes, at);
        break;
      case TAR_TYPE.gnuLongLink:
        // apk-tools ignores K headers, GNU tar applies them: the link target
        // would differ between readers.
        throw new TarError("GNU long link (K) header: apk-tools ignores it, GNU tar does not", at);
      default:
        return { header, records: local ?? new Map(), longName };
    }
  }
}

async function readPax(reader: ByteReader, size: number, at: ApkErrorLocation) {
  const body = await readMetaBody(reader, size, MAX_PAX_HEADER_BYTES, "PAX header", at);
  return relocated(() => parsePaxRecords(body), at);
}

async function readLongName(
  reader: ByteReader,
  size: number,
  maxPathBytes: number,
  at: ApkErrorLocation,
): Promise<string> {
  const body = await readMetaBody(reader, size, maxPathBytes + 1, "GNU long name", at);
  let end = body.length;
  while (end > 0 && body[end - 1] === 0) end--;
  return utf8.decode(body.subarray(0, end));
}

async function readMetaBody(
  reader: ByteReader,
  size: number,
  max: number,
  what: string,
  at: ApkErrorLocation,
): Promise<Uint8Array> {
  if (size > max) throw new LimitExceededError(`${what} of ${size} bytes is over ${max}`, at);
  const body = await reader.read(size);
  if (body.length < size) throw truncatedBody(at);
  await skipPadding(reader, size, at);
  return body;
}

function buildEntry(
  header: RawTarHeader,
  records: Map<string, Uint8Array>,
  rawPath: string,
  offset: number,
  at: ApkErrorLocation,
  options: TarReadOptions,
): TarEntry {
  const type = entryType(header, rawPath, at, options.allowSpecialFiles ?? false);
  const path = normalizePath(rawPath, at);
  if (path === "." && type !== "directory") {
    throw new UnsafeEntryError("entry names the archive root but is not a directory", at);
  }
  const number = (key: string, fallback: number, pattern = /^[0-9]+$/) => {
    const value = text(records, key);
    if (value === undefined) return fallback;
    if (!pattern.test(value) || !Number.isFinite(Number(value))) {
      throw new TarError(`PAX record ${key} is not a number: ${JSON.stringify(value)}`, at);
    }
    return Number(value);
  };
  const size = number("size", header.size);
  if (!Number.isSafeInteger(size)) throw new TarError("entry size is too large", at);
  if (size !== header.size) {
    // apk-tools skips by the header's size, PAX readers by the record's.
    throw new TarError(
      `PAX size ${size} differs from the header's size ${header.size} (readers disagree)`,
      at,
    );
  }
  if (type !== "file" && size > 0) {
    // apk-tools skips such content; Go, GNU tar and Python read it as further headers.
    throw new TarError(`${type} has ${size} bytes of content (only files may)`, at);
  }
  const entry: { -readonly [K in keyof TarEntry]: TarEntry[K] } = {
    path,
    type,
    mode: header.mode & 0o7777,
    uid: number("uid", header.uid),
    gid: number("gid", header.gid),
    mtime: Math.floor(number("mtime", header.mtime, /^-?[0-9]+(\.[0-9]*)?$/)),
    size: type === "file" ? size : 0,
    offset,
  };
  const uname = text(records, "uname") ?? header.uname;
  const gname = text(records, "gname") ?? header.gname;
  if (uname !== "") entry.uname = uname;
  if (gname !== "") entry.gname = gname;
  if (type === "symlink" || type === "hardlink") {
    const rawLink = text(records, "linkpath") ?? header.linkname;
    if (rawLink === "") throw new TarError(`${type} has an empty target`, at);
    if (rawLink.includes("\0"))
      throw new UnsafeEntryError(`${type} target contains a NUL byte`, at);
    const maxPathBytes = options.maxPathBytes ?? DEFAULT_READ_LIMITS.maxPathBytes;
    if (Buffer.byteLength(rawLink) > maxPathBytes) {
      throw new LimitExceededError(`link target is longer than ${maxPathBytes} bytes`, at);
    }
    entry.linkTarget =
      type === "hardlink" ? normalizePath(rawLink, at, "hard link target") : rawLink;
  }
  if (type === "character-device" || type === "block-device") {
    entry.devMajor = header.devmajor;
    entry.devMinor = header.devminor;
  }
  const checksum = text(records, PAX_APK_CHECKSUM_SHA1);
  if (checksum !== undefined) entry.checksum = checksum;
  if (records.size > 0) {
    const pax: Record<string, string> = {};
    const xattrs: Record<string, string> = {};
    let hasXattrs = false;
    for (const [key, value] of records) {
      pax[key] = utf8.decode(value);
      if (key.startsWith(PAX_XATTR_PREFIX) && key.length > PAX_XATTR_PREFIX.length) {
        xattrs[key.slice(PAX_XATTR_PREFIX.length)] = Buffer.from(value).toString("latin1");
        hasXattrs = true;
      }
    }
    entry.pax = pax;
    if (hasXattrs) entry.xattrs = xattrs;
  }
  return entry;
}

function entryType(
  header: RawTarHeader,
  rawPath: string,
  at: ApkErrorLocation,
  allowSpecialFiles: boolean,
): TarEntryType {
  switch (header.typeflag) {
    case TAR_TYPE.fileOld:
      // Pre-POSIX tars mark directories only by a trailing slash.
      return rawPath.endsWith("/") ? "directory" : "file";
    case TAR_TYPE.file:
    case TAR_TYPE.contiguous:
      return "file";
    case TAR_TYPE.directory:
      return "directory";
    case TAR_TYPE.symlink:
      return "symlink";
    case TAR_TYPE.hardlink:
      return "hardlink";
    case TAR_TYPE.characterDevice:
    case TAR_TYPE.blockDevice:
    case TAR_TYPE.fifo: {
      const type =
        header.typeflag === TAR_TYPE.fifo
          ? "fifo"
          : header.typeflag === TAR_TYPE.characterDevice
            ? "character-device"
            : "block-device";
      if (!allowSpecialFiles) {
        throw new UnsafeEntryError(`is a ${type}; special files are not allowed`, at);
      }
      return type;
    }
    default:
      throw new TarError(`unsupported entry type ${JSON.stringify(header.typeflag)}`, at);
  }
}

/**
 * Normalises an archive path, refusing anything that could land outside
 * the extraction root or mean something else to an OCI layer.
 */
function normalizePath(raw: string, at: ApkErrorLocation, what = "path"): string {
  if (raw.includes("\0")) throw new UnsafeEntryError(`${what} contains a NUL byte`, at);
  if (raw.startsWith("/")) throw new UnsafeEntryError(`${what} is absolute: ${raw}`, at);
  const parts: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new UnsafeEntryError(`${what} climbs out with "..": ${raw}`, at);
    // OCI layers use .wh.<name> to delete <name> from lower layers.
    if (part.startsWith(".wh.")) {
      throw new UnsafeEntryError(`${what} is an OCI whiteout (.wh.): ${raw}`, at);
    }
    parts.push(part);
  }
  return parts.length === 0 ? "." : parts.join("/");
}

/**
 * Checks an entry against the ones before it: repeated paths, parents that
 * are not directories, hard links and symlink targets.
 */
function checkPlacement(
  entry: TarEntry,
  kinds: Map<string, TarEntryType>,
  at: ApkErrorLocation,
): void {
  // A parent that an earlier entry made a symlink would redirect this entry
  // wherever that symlink points when extracted; any other non-directory
  // parent means readers disagree about what the tree is.
  for (
    let slash = entry.path.indexOf("/");
    slash >= 0;
    slash = entry.path.indexOf("/", slash + 1)
  ) {
    const parent = entry.path.slice(0, slash);
    const kind = kinds.get(parent);
    if (kind === "symlink") {
      throw new UnsafeEntryError(`path goes through the symlink ${parent}`, at);
    }
    if (kind !== undefined && kind !== "directory") {
      throw new UnsafeEntryError(`path goes through ${parent}, which is a ${kind}`, at);
    }
  }
  // A path seen before replaces what was there (a symlink by a directory,
  // say), and readers differ in how; only a directory repeated is harmless.
  const previous = kinds.get(entry.path);
  if (previous !== undefined && !(previous === "directory" && entry.type === "directory")) {
    throw new UnsafeEntryError(
      `path is already in the archive as a ${previous}; only directories may repeat`,
      at,
    );
  }
  if (entry.type === "hardlink") {
    const target = entry.linkTarget ?? "";
    const kind = kinds.get(target);
    if (kind === undefined) {
      throw new UnsafeEntryError(`hard link to ${target}, which is not earlier in the archive`, at);
    }
    if (kind === "directory") {
      throw new UnsafeEntryError(`hard link to the directory ${target}`, at);
    }
    if (kind === "symlink") {
      // The link would be a second symlink, its target resolved from another place.
      throw new UnsafeEntryError(`hard link to the symlink ${target}`, at);
    }
  }
  if (entry.type === "symlink") {
    const target = entry.linkTarget ?? "";
    const problem = symlinkProblem(entry.path, target);
    if (problem !== undefined) throw new UnsafeEntryError(`symlink to ${target} ${problem}`, at);
  }
}

/**
 * Remembers what an entry made its path, and that its parents are
 * directories (implicitly, when no entry of theirs came first), so a later
 * entry cannot turn a parent into a symlink.
 */
function recordPlacement(entry: TarEntry, kinds: Map<string, TarEntryType>): void {
  for (
    let slash = entry.path.indexOf("/");
    slash >= 0;
    slash = entry.path.indexOf("/", slash + 1)
  ) {
    const parent = entry.path.slice(0, slash);
    if (!kinds.has(parent)) kinds.set(parent, "directory");
  }
  kinds.set(entry.path, entry.type);
}

/**
 * Why a symlink at `path` pointing to `target` is unsafe, if it is.
 * Absolute targets stay inside: in an image they resolve against its root.
 * A relative target may climb with leading `..` components only, and no
 * higher than the root: a `..` after a normal component would be resolved
 * through whatever that component is when extracted (possibly another
 * symlink), not through the text.
 */
function symlinkProblem(path: string, target: string): string | undefined {
  if (target.startsWith("/")) return undefined;
  let depth = path === "." ? 0 : path.split("/").length - 1;
  let climbing = true;
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (!climbing) return 'climbs with ".." after a normal component';
      if (depth === 0) return "escapes the root";
      depth--;
    } else {
      climbing = false;
    }
  }
  return undefined;
}

const PREFIX_START = TAR_FIELDS.prefix.offset;
const PREFIX_END = TAR_FIELDS.prefix.offset + TAR_FIELDS.prefix.length;

function isZeroRange(block: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (block[i] !== 0) return false;
  return true;
}

async function* readBody(
  reader: ByteReader,
  state: { remaining: number; open: boolean; started: boolean },
  at: ApkErrorLocation,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (!state.open) throw new Error("tar entry body read after moving to the next entry");
  if (state.started) throw new Error("tar entry body can only be read once");
  state.started = true;
  while (state.remaining > 0 && state.open) {
    const chunk = await reader.readUpTo(state.remaining);
    if (chunk.length === 0) throw truncatedBody(at);
    state.remaining -= chunk.length;
    yield chunk;
  }
}

async function skipPadding(reader: ByteReader, size: number, at: ApkErrorLocation): Promise<void> {
  const padding = (TAR_BLOCK_SIZE - (size % TAR_BLOCK_SIZE)) % TAR_BLOCK_SIZE;
  // Real archives are whole blocks; a short last block means the writer
  // never finished (GNU tar reports "Unexpected EOF in archive" too).
  if (padding > 0 && (await reader.skip(padding)) < padding) {
    throw new TarError("archive is truncated: the block padding after the content is missing", at);
  }
}

function truncatedBody(at: ApkErrorLocation): TarError {
  return new TarError("archive is truncated inside an entry's content", at);
}

function text(records: Map<string, Uint8Array>, key: string): string | undefined {
  const value = records.get(key);
  return value === undefined ? undefined : utf8.decode(value);
}

function relocated<T>(fn: () => T, at: ApkErrorLocation): T {
  try {
    return fn();
  } catch (error) {
    throw relocate(error, at);
  }
}

/** The same error with `at` filled in under the location it already has. */
export function relocate(error: unknown, at: ApkErrorLocation): unknown {
  if (!(error instanceof ApkError)) return error;
  const merged = { ...at, ...error.location };
  const same = Object.keys(merged).every(
    (key) =>
      merged[key as keyof ApkErrorLocation] === error.location[key as keyof ApkErrorLocation],
  );
  if (same) return error;
  const Constructor = error.constructor as new (
    detail: string,
    location: ApkErrorLocation,
    options?: { cause?: unknown },
  ) => ApkError;
  return new Constructor(error.detail, merged, { cause: error.cause });
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Pull-based reader over the chunks of a byte stream, copying only to join chunks. */
class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private chunk: Uint8Array = EMPTY;
  private at = 0;
  private done = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array) {
    if (source instanceof Uint8Array) this.iterator = [source][Symbol.iterator]();
    else if (Symbol.asyncIterator in source) this.iterator = source[Symbol.asyncIterator]();
    else this.iterator = source[Symbol.iterator]();
  }

  /** Up to `max` bytes from the current chunk (a view, not a copy); empty at the end. */
  async readUpTo(max: number): Promise<Uint8Array> {
    if (!(await this.fill())) return EMPTY;
    const end = Math.min(this.chunk.length, this.at + max);
    const out = this.chunk.subarray(this.at, end);
    this.position += end - this.at;
    this.at = end;
    return out;
  }

  /** Exactly `count` bytes, or fewer when the stream ends first. */
  async read(count: number): Promise<Uint8Array> {
    const first = await this.readUpTo(count);
    if (first.length === count || first.length === 0) return first;
    const out = new Uint8Array(count);
    out.set(first, 0);
    let filled = first.length;
    while (filled < count) {
      const next = await this.readUpTo(count - filled);
      if (next.length === 0) return out.subarray(0, filled);
      out.set(next, filled);
      filled += next.length;
    }
    return out;
  }

  /** Skips up to `count` bytes; returns how many were skipped. */
  async skip(count: number): Promise<number> {
    let skipped = 0;
    while (skipped < count) {
      const part = await this.readUpTo(count - skipped);
      if (part.length === 0) break;
      skipped += part.length;
    }
    return skipped;
  }

  /** Reads everything that is left; returns the offset of the first non-zero byte, if any. */
  async drainZeros(): Promise<number | undefined> {
    let firstNonZero: number | undefined;
    for (;;) {
      const start = this.position;
      const chunk = await this.readUpTo(Number.MAX_SAFE_INTEGER);
      if (chunk.length === 0) return firstNonZero;
      if (firstNonZero === undefined) {
        const at = chunk.findIndex((byte) => byte !== 0);
        if (at >= 0) firstNonZero = start + at;
      }
    }
  }

  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }

  private async fill(): Promise<boolean> {
    while (this.at >= this.chunk.length) {
      if (this.done) return false;
      const next = await this.iterator.next();
      if (next.done === true) {
        this.done = true;
        this.chunk = EMPTY;
        this.at = 0;
        return false;
      }
      this.chunk = next.value;
      this.at = 0;
    }
    return true;
  }
}
