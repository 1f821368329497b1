/**
 * `.PKGINFO`: the `key = value` metadata file at the head of every APK v2
 * control stream, as abuild and melange write it and apk-tools reads it.
 */
import { type ApkErrorLocation, FieldError, LimitExceededError } from "../errors.js";

/** Parsed `.PKGINFO`: the fields apk-tools knows, plus every line in its original order. */
export interface PkgInfo {
  /** Package name (`pkgname`, the index's `P:`). Required. */
  pkgname: string;
  /** Full version including the release, e.g. `5.17-r0` (`pkgver`, `V:`). Required. */
  pkgver: string;
  /** One-line description (`pkgdesc`, `T:`). */
  pkgdesc?: string;
  /** Upstream home page (`url`, `U:`). */
  url?: string;
  /** Build time in seconds since the epoch (`builddate`, `t:`). */
  builddate?: number;
  /** Who built the package (`packager`); apk-tools does not keep it. */
  packager?: string;
  /** Installed size in bytes (`size`, the index's `I:`). */
  size?: number;
  /** Architecture, e.g. `x86_64` or `noarch` (`arch`, `A:`). */
  arch?: string;
  /** Source package name (`origin`, `o:`). */
  origin?: string;
  /** Commit of the build recipe (`commit`, `c:`). */
  commit?: string;
  /** Maintainer (`maintainer`, `m:`). */
  maintainer?: string;
  /**
   * Licence expression (`license`, `L:`). melange writes one `license` line
   * per copyright entry; as in apk-tools the last one is the package's
   * licence (all stay in `fields`).
   */
  license?: string;
  /** Dependency atoms, in order (`depend`, `D:`). */
  depend: string[];
  /** Provided names, e.g. `so:libz.so.1=1.2.13` or `cmd:strace=5.17-r0` (`provides`, `p:`). */
  provides: string[];
  /** Packages whose files this one may overwrite (`replaces`, the installed db's `r:`). */
  replaces: string[];
  /** Priority when two packages replace each other's files (`replaces_priority`, `q:`). */
  replacesPriority?: number;
  /** Atoms that, when all installed, pull this package in (`install_if`, `i:`). */
  installIf: string[];
  /** Preference among providers of the same name (`provider_priority`, `k:`). */
  providerPriority?: number;
  /** Directories whose changes run the `.trigger` script (`triggers`). */
  triggers: string[];
  /** Lower-case hex SHA-256 of the data section's compressed bytes (`datahash`). */
  datahash?: string;
  /**
   * Every `key = value` line in order, with its value as written, including
   * keys this library does not know (kept so nothing is lost on a rewrite).
   */
  fields: [string, string][];
}

/** Options for {@link parsePkgInfo}. */
export interface ParsePkgInfoOptions {
  /**
   * Largest `.PKGINFO` accepted, in UTF-8 bytes.
   * @default 1048576 (1 MiB)
   */
  maxBytes?: number;
}

/** Largest `.PKGINFO` {@link parsePkgInfo} accepts unless told otherwise (1 MiB). */
export const DEFAULT_MAX_PKGINFO_BYTES = 1024 * 1024;

type ScalarKey =
  | "pkgname"
  | "pkgver"
  | "pkgdesc"
  | "url"
  | "builddate"
  | "packager"
  | "size"
  | "arch"
  | "origin"
  | "commit"
  | "maintainer"
  | "license"
  | "replaces_priority"
  | "provider_priority"
  | "datahash";

type ListKey = "depend" | "provides" | "replaces" | "install_if" | "triggers";

// Keys that may appear once. apk-tools silently lets a later line win; a
// second pkgver is always a packaging bug, so it is an error here. `license`
// is the exception: melange repeats it (see PkgInfo.license).
const LAST_WINS_KEYS: ReadonlySet<string> = new Set(["license"]);
const SCALAR_KEYS: ReadonlySet<string> = new Set<ScalarKey>([
  "pkgname",
  "pkgver",
  "pkgdesc",
  "url",
  "builddate",
  "packager",
  "size",
  "arch",
  "origin",
  "commit",
  "maintainer",
  "license",
  "replaces_priority",
  "provider_priority",
  "datahash",
]);

// Keys abuild repeats, one atom (or one space-separated group) per line.
const LIST_KEYS: ReadonlySet<string> = new Set<ListKey>([
  "depend",
  "provides",
  "replaces",
  "install_if",
  "triggers",
]);

const NUMERIC_KEYS: ReadonlySet<string> = new Set([
  "builddate",
  "size",
  "replaces_priority",
  "provider_priority",
]);

const SEPARATOR = " = ";

/**
 * Parses a `.PKGINFO` text. Lines starting with `#` and empty lines are
 * comments; every other line must be `key = value`. `depend`, `provides`,
 * `replaces`, `install_if` and `triggers` may repeat (each value may hold
 * several space-separated items, as apk-tools reads them), and so may
 * `license` (the last one counts, as in apk-tools); any other known key
 * given twice is a {@link FieldError} naming the key and line. Unknown keys
 * are kept, in order, in `fields`.
 *
 * @param location - where the text came from (file, entry), added to errors.
 * @throws FieldError on a malformed line, a duplicate or missing required
 *   field (`pkgname`, `pkgver`), a non-numeric number or a bad `datahash`.
 * @throws LimitExceededError when the text is larger than `options.maxBytes`.
 */
export function parsePkgInfo(
  text: string,
  location: ApkErrorLocation = {},
  options: ParsePkgInfoOptions = {},
): PkgInfo {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PKGINFO_BYTES;
  // text.length counts UTF-16 units, never more than the UTF-8 byte count,
  // so the exact (slower) count is only needed near the limit.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && utf8Length(text) > maxBytes)) {
    throw new LimitExceededError(`.PKGINFO is larger than ${maxBytes} bytes`, location);
  }

  const scalars = new Map<string, { value: string; line: number }>();
  const lists: Record<ListKey, string[]> = {
    depend: [],
    provides: [],
    replaces: [],
    install_if: [],
    triggers: [],
  };
  const fields: [string, string][] = [];

  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const lineNumber = index + 1;
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf(SEPARATOR);
    if (at <= 0) {
      throw new FieldError(`expected "key = value", found ${JSON.stringify(clip(line))}`, {
        ...location,
        line: lineNumber,
      });
    }
    const key = line.slice(0, at);
    const value = line.slice(at + SEPARATOR.length);
    fields.push([key, value]);

    if (SCALAR_KEYS.has(key)) {
      const earlier = scalars.get(key);
      if (earlier !== undefined && !LAST_WINS_KEYS.has(key)) {
        throw new FieldError(`given twice (first on line ${earlier.line})`, {
          ...location,
          field: key,
          line: lineNumber,
        });
      }
      validateScalar(key, value, { ...location, field: key, line: lineNumber });
      scalars.set(key, { value, line: lineNumber });
    } else if (LIST_KEYS.has(key)) {
      lists[key as ListKey].push(...splitItems(value));
    }
  }

  const pkgname = scalars.get("pkgname")?.value;
  const pkgver = scalars.get("pkgver")?.value;
  if (pkgname === undefined) throw new FieldError("is required", { ...location, field: "pkgname" });
  if (pkgver === undefined) throw new FieldError("is required", { ...location, field: "pkgver" });

  const info: PkgInfo = {
    pkgname,
    pkgver,
    depend: lists.depend,
    provides: lists.provides,
    replaces: lists.replaces,
    installIf: lists.install_if,
    triggers: lists.triggers,
    fields,
  };
  const text_ = (key: ScalarKey) => scalars.get(key)?.value;
  const number_ = (key: ScalarKey) => {
    const value = scalars.get(key)?.value;
    return value === undefined ? undefined : Number(value);
  };
  assign(info, "pkgdesc", text_("pkgdesc"));
  assign(info, "url", text_("url"));
  assign(info, "builddate", number_("builddate"));
  assign(info, "packager", text_("packager"));
  assign(info, "size", number_("size"));
  assign(info, "arch", text_("arch"));
  assign(info, "origin", text_("origin"));
  assign(info, "commit", text_("commit"));
  assign(info, "maintainer", text_("maintainer"));
  assign(info, "license", text_("license"));
  assign(info, "replacesPriority", number_("replaces_priority"));
  assign(info, "providerPriority", number_("provider_priority"));
  assign(info, "datahash", text_("datahash")?.toLowerCase());
  return info;
}

/**
 * Writes a `.PKGINFO` in the order abuild writes it: identity and
 * descriptive fields, priorities, licence, then `replaces`, `depend`,
 * `provides`, `triggers` and `install_if`, then keys this library does not
 * know (from `fields`, in their order), and `datahash` last, as abuild
 * appends it once the data section is compressed. The same input always
 * gives the same text; no comment lines are written.
 *
 * @throws FieldError when a value would break the format (a newline, an
 *   empty name or version, a negative or fractional number, a bad datahash).
 */
export function formatPkgInfo(info: PkgInfo): string {
  const lines: string[] = [];
  const put = (key: string, value: string | number | undefined) => {
    if (value === undefined) return;
    const text = String(value);
    validateScalarForWrite(key, text);
    lines.push(`${key}${SEPARATOR}${text}`);
  };
  const putAll = (key: string, items: readonly string[]) => {
    for (const item of items) put(key, checkItem(key, item));
  };

  put("pkgname", info.pkgname);
  put("pkgver", info.pkgver);
  put("pkgdesc", info.pkgdesc);
  put("url", info.url);
  put("builddate", info.builddate);
  put("packager", info.packager);
  put("size", info.size);
  put("arch", info.arch);
  put("origin", info.origin);
  put("commit", info.commit);
  put("maintainer", info.maintainer);
  put("replaces_priority", info.replacesPriority);
  put("provider_priority", info.providerPriority);
  put("license", info.license);
  putAll("replaces", info.replaces);
  putAll("depend", info.depend);
  putAll("provides", info.provides);
  // abuild writes each trigger's directories, and install_if, on one line.
  if (info.triggers.length > 0) {
    put("triggers", info.triggers.map((item) => checkItem("triggers", item)).join(" "));
  }
  if (info.installIf.length > 0) {
    put("install_if", info.installIf.map((item) => checkItem("install_if", item)).join(" "));
  }
  for (const [key, value] of info.fields) {
    if (SCALAR_KEYS.has(key) || LIST_KEYS.has(key)) continue;
    if (key === "" || key.startsWith("#") || /[\n\r]/.test(key) || key.includes(SEPARATOR)) {
      throw new FieldError("is not a valid .PKGINFO key", { field: JSON.stringify(key) });
    }
    put(key, value);
  }
  put("datahash", info.datahash);
  return `${lines.join("\n")}\n`;
}

function validateScalar(key: string, value: string, location: ApkErrorLocation): void {
  if (NUMERIC_KEYS.has(key)) {
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new FieldError(
        `must be a non-negative decimal integer, found ${JSON.stringify(clip(value))}`,
        location,
      );
    }
  } else if (key === "datahash") {
    if (!/^[0-9a-fA-F]{64}$/.test(value)) {
      throw new FieldError(
        `must be 64 hex digits (SHA-256), found ${JSON.stringify(clip(value))}`,
        location,
      );
    }
  } else if ((key === "pkgname" || key === "pkgver") && !/^\S+$/.test(value)) {
    throw new FieldError(
      `must be non-empty without spaces, found ${JSON.stringify(clip(value))}`,
      location,
    );
  }
}

function validateScalarForWrite(key: string, value: string): void {
  if (/[\n\r]/.test(value)) throw new FieldError("must not contain a line break", { field: key });
  validateScalar(key, value, { field: key });
}

function checkItem(key: string, item: string): string {
  if (!/^\S+$/.test(item)) {
    throw new FieldError(`item ${JSON.stringify(clip(item))} must be non-empty without spaces`, {
      field: key,
    });
  }
  return item;
}

function splitItems(value: string): string[] {
  return value.split(/[ \t]+/).filter((item) => item !== "");
}

function assign<K extends keyof PkgInfo>(
  info: PkgInfo,
  key: K,
  value: PkgInfo[K] | undefined,
): void {
  if (value !== undefined) info[key] = value;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
