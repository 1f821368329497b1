/**
 * apk's installed-package database (`/lib/apk/db/installed`, Wolfi:
 * `/usr/lib/apk/db/installed`): one record per package, holding the index
 * fields, then what apk keeps about the installation (replaces, flags) and
 * every directory and file the package owns, with owner, mode and checksum.
 */

import type { ApkErrorLocation } from "../errors.js";
import { FieldError } from "../errors.js";
import type { IndexEntry } from "../index/index-entry.js";
import {
  formatIndexEntryLines,
  IndexFieldCollector,
  isPackageChecksum,
  parseDecimal,
  splitAtoms,
} from "../index/index-entry.js";

/** Owner, group and permission bits of an installed path (`M:` / `a:` lines). */
export interface InstalledAcl {
  /** Numeric owner. */
  readonly uid: number;
  /** Numeric group. */
  readonly gid: number;
  /** Permission bits, e.g. `0o755`. */
  readonly mode: number;
  /** `Q1…` digest of the path's extended attributes, when it has any. */
  readonly xattrChecksum?: string;
}

/** A file (regular, symlink or hard link) a package owns: `R:` with its `a:` and `Z:`. */
export interface InstalledFile {
  /** File name inside its directory (no slash). */
  readonly name: string;
  /** Owner and mode; apk writes `a:` only when this is not root:root 0644. */
  readonly acl: InstalledAcl;
  /** `Z:` checksum of the content (of the target, for a symlink), `Q1…`. */
  readonly checksum?: string;
}

/** A directory a package owns: `F:` with its `M:`, and the files in it. */
export interface InstalledDirectory {
  /** Path without leading or trailing slash; "" is the root directory. */
  readonly path: string;
  /** Owner and mode; apk writes `M:` only when this is not root:root 0755. */
  readonly acl: InstalledAcl;
  /** Files directly in this directory, in database order. */
  readonly files: readonly InstalledFile[];
}

/** One package record of the installed database. */
export interface InstalledRecord extends IndexEntry {
  /** `r:` packages whose files this one may overwrite. */
  readonly replaces: readonly string[];
  /** `q:` replaces priority (0 or absent: none). */
  readonly replacesPriority?: number;
  /** `s:` repository tag the package was pinned to (`edge` for `foo@edge`). */
  readonly repositoryTag?: string;
  /**
   * `f:` state flags: `f` files broken, `s` script failed, `x` xattrs
   * broken, `S` file checksums are SHA-256 truncated to 160 bits.
   */
  readonly flags?: string;
  /** `g:` package tags (apk-tools 3). */
  readonly tags: readonly string[];
  /** Owned directories and their files, in database order. */
  readonly directories: readonly InstalledDirectory[];
}

/** Options of {@link parseInstalledDb}. */
export interface ParseInstalledDbOptions {
  /** Name of the database file, for messages. */
  readonly file?: string;
}

/** Owner and mode apk assumes for a directory without `M:`. */
export const DEFAULT_DIRECTORY_ACL: InstalledAcl = { uid: 0, gid: 0, mode: 0o755 };
/** Owner and mode apk assumes for a file without `a:`. */
export const DEFAULT_FILE_ACL: InstalledAcl = { uid: 0, gid: 0, mode: 0o644 };

const FLAG_CHARACTERS = /^[fsxS]*$/;

interface DirectoryBuilder {
  path: string;
  acl: InstalledAcl;
  files: FileBuilder[];
}

interface FileBuilder {
  name: string;
  acl: InstalledAcl;
  checksum?: string;
}

/**
 * Parses an installed database. Stricter than an index, as apk-tools is with
 * its own state: a line that is not `X:value`, an unknown field, `M:`/`R:`
 * before any `F:`, `a:`/`Z:` before any `R:`, a bad number, mode, checksum
 * or flag, or a package without `P:`, `V:` or `C:` is a {@link FieldError}
 * naming the file and line. (apk-tools 3 refuses such databases too.)
 *
 * Tolerated, because apko writes them: fields in any order, `a:0:0:0777`
 * style modes, `[]` for an empty dependency list, `k:0`.
 */
export function parseInstalledDb(
  text: string,
  options: ParseInstalledDbOptions = {},
): InstalledRecord[] {
  const records: InstalledRecord[] = [];
  const base: ApkErrorLocation = options.file === undefined ? {} : { file: options.file };

  let state: RecordState | undefined;
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const at: ApkErrorLocation = { ...base, line: index + 1 };
    if (line.length < 2) {
      if (state !== undefined) records.push(state.finish());
      state = undefined;
      continue;
    }
    if (line[1] !== ":") {
      throw new FieldError(`line is not "X:value": ${JSON.stringify(clip(line))}`, at);
    }
    state ??= new RecordState(at);
    state.apply(line[0] ?? "", line.slice(2), at);
  }
  if (state !== undefined) records.push(state.finish());
  return records;
}

class RecordState {
  private readonly collector = new IndexFieldCollector();
  private readonly replaces: string[] = [];
  private readonly tags: string[] = [];
  private replacesPriority: number | undefined;
  private repositoryTag: string | undefined;
  private flags: string | undefined;
  private readonly directories: DirectoryBuilder[] = [];
  private directory: DirectoryBuilder | undefined;
  private file: FileBuilder | undefined;

  constructor(private readonly start: ApkErrorLocation) {}

  apply(letter: string, value: string, at: ApkErrorLocation): void {
    const where = { ...at, entry: this.collector.label(), field: `${letter}:` };
    const outcome = this.collector.apply(letter, value);
    if (outcome.kind === "applied") return;
    if (outcome.kind === "unusable") throw new FieldError(outcome.reason, where);
    if (outcome.kind === "ignored") {
      // apk-tools refuses unknown fields in its own database ("too old").
      throw new FieldError(`unknown field ${letter}: (written by a newer apk-tools?)`, where);
    }
    switch (letter) {
      case "F": {
        const path = value.replace(/^\/+|\/+$/g, "");
        const existing = this.directories.find((d) => d.path === path);
        this.directory = existing ?? { path, acl: DEFAULT_DIRECTORY_ACL, files: [] };
        if (existing === undefined) this.directories.push(this.directory);
        this.file = undefined;
        return;
      }
      case "M":
        if (this.directory === undefined) throw new FieldError("M: before any F:", where);
        this.directory.acl = parseAcl(value, where);
        return;
      case "R":
        if (this.directory === undefined) throw new FieldError("R: before any F:", where);
        if (value === "" || value.includes("/")) {
          throw new FieldError(`file name "${value}" is empty or holds a slash`, where);
        }
        this.file = { name: value, acl: DEFAULT_FILE_ACL };
        this.directory.files.push(this.file);
        return;
      case "a":
        if (this.file === undefined) throw new FieldError("a: before any R:", where);
        this.file.acl = parseAcl(value, where);
        return;
      case "Z":
        if (this.file === undefined) throw new FieldError("Z: before any R:", where);
        if (!isFileChecksum(value)) throw new FieldError(`"${value}" is not a checksum`, where);
        this.file.checksum = value;
        return;
      case "r":
        this.replaces.push(...splitAtoms(value));
        return;
      case "q": {
        const number = parseDecimal(value);
        if (number === undefined) throw new FieldError(`"${value}" is not a number`, where);
        this.replacesPriority = number;
        return;
      }
      case "s":
        this.repositoryTag = value;
        return;
      case "f":
        if (!FLAG_CHARACTERS.test(value)) {
          throw new FieldError(`flags "${value}" hold a letter apk does not know`, where);
        }
        this.flags = value;
        return;
      case "g":
        this.tags.push(...splitAtoms(value));
        return;
      default:
        throw new FieldError(`unknown field ${letter}:`, where);
    }
  }

  finish(): InstalledRecord {
    const result = this.collector.finish();
    if (!("entry" in result)) throw new FieldError(result.reason, this.start);
    return {
      ...result.entry,
      replaces: this.replaces,
      ...(this.replacesPriority !== undefined && this.replacesPriority !== 0
        ? { replacesPriority: this.replacesPriority }
        : {}),
      ...(this.repositoryTag !== undefined && this.repositoryTag !== ""
        ? { repositoryTag: this.repositoryTag }
        : {}),
      ...(this.flags !== undefined && this.flags !== "" ? { flags: this.flags } : {}),
      tags: this.tags,
      directories: this.directories,
    };
  }
}

function parseAcl(value: string, where: ApkErrorLocation): InstalledAcl {
  const match = /^(\d+):(\d+):([0-7]+)(?::(\S+))?$/.exec(value);
  if (match === null) throw new FieldError(`"${value}" is not uid:gid:mode[:xattrs]`, where);
  const [, uid, gid, mode, xattrs] = match;
  const acl = { uid: Number(uid), gid: Number(gid), mode: Number.parseInt(mode ?? "", 8) };
  if (acl.mode > 0o7777 || !Number.isSafeInteger(acl.uid) || !Number.isSafeInteger(acl.gid)) {
    throw new FieldError(`"${value}" is out of range`, where);
  }
  if (xattrs === undefined) return acl;
  if (!isFileChecksum(xattrs)) throw new FieldError(`"${xattrs}" is not a checksum`, where);
  return { ...acl, xattrChecksum: xattrs };
}

/** `Q1…` (SHA-1), `Q2…` (SHA-256) or hex, as apk writes file digests. */
function isFileChecksum(value: string): boolean {
  return isPackageChecksum(value) || /^[0-9a-f]{32}$/.test(value);
}

/**
 * The installed database text for `records`, exactly as apk-tools writes it:
 * each record's index fields, then `g:`, `r:`, `q:`, `s:`, `f:`, then every
 * `F:` (with `M:` unless root:root 0755) and its `R:` lines (with `a:` unless
 * root:root 0644, and `Z:`), and a blank line.
 * @throws FieldError for values that cannot be written.
 */
export function formatInstalledDb(records: Iterable<InstalledRecord>): string {
  let out = "";
  for (const record of records) out += formatInstalledRecord(record);
  return out;
}

/** One record of {@link formatInstalledDb}, blank line included. */
export function formatInstalledRecord(record: InstalledRecord): string {
  const entry = `${record.name}-${record.version}`;
  const check = (letter: string, value: string) => {
    if (/[\n]/.test(value))
      throw new FieldError("value holds a newline", { entry, field: `${letter}:` });
    return value;
  };
  let out = formatIndexEntryLines(record);
  if (record.tags.length > 0) out += `g:${check("g", record.tags.join(" "))}\n`;
  if (record.replaces.length > 0) out += `r:${check("r", record.replaces.join(" "))}\n`;
  if (record.replacesPriority !== undefined && record.replacesPriority !== 0) {
    out += `q:${check("q", String(record.replacesPriority))}\n`;
  }
  if (record.repositoryTag !== undefined && record.repositoryTag !== "") {
    out += `s:${check("s", record.repositoryTag)}\n`;
  }
  if (record.flags !== undefined && record.flags !== "") {
    if (!FLAG_CHARACTERS.test(record.flags)) {
      throw new FieldError(`flags "${record.flags}" hold a letter apk does not know`, {
        entry,
        field: "f:",
      });
    }
    out += `f:${record.flags}\n`;
  }
  for (const directory of record.directories) {
    out += `F:${check("F", directory.path)}\n`;
    if (!isDefaultAcl(directory.acl, DEFAULT_DIRECTORY_ACL))
      out += `M:${formatAcl(directory.acl)}\n`;
    for (const file of directory.files) {
      if (file.name === "" || file.name.includes("/")) {
        throw new FieldError(`file name "${file.name}" is empty or holds a slash`, {
          entry,
          field: "R:",
        });
      }
      out += `R:${check("R", file.name)}\n`;
      if (!isDefaultAcl(file.acl, DEFAULT_FILE_ACL)) out += `a:${formatAcl(file.acl)}\n`;
      if (file.checksum !== undefined) out += `Z:${check("Z", file.checksum)}\n`;
    }
  }
  return `${out}\n`;
}

function isDefaultAcl(acl: InstalledAcl, fallback: InstalledAcl): boolean {
  return (
    acl.uid === fallback.uid &&
    acl.gid === fallback.gid &&
    acl.mode === fallback.mode &&
    acl.xattrChecksum === undefined
  );
}

function formatAcl(acl: InstalledAcl): string {
  const base = `${acl.uid}:${acl.gid}:${acl.mode.toString(8)}`;
  return acl.xattrChecksum === undefined ? base : `${base}:${acl.xattrChecksum}`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
