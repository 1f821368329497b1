/**
 * The package fields APKINDEX and the installed database share: one letter a
 * line, in the order apk-tools writes them. Collecting and writing them lives
 * here so the index and the installed database agree byte for byte.
 */

import type { ApkErrorLocation } from "../errors.js";
import { FieldError } from "../errors.js";

/**
 * One package of an APKINDEX, with every field apk-tools 2 and 3 read there.
 * Installed-database-only letters (`r q s f g F M R Z a`) are not part of it;
 * see `InstalledRecord`.
 */
export interface IndexEntry {
  /** `C:` package identity: `Q1` + base64 SHA-1 of the control gzip member. */
  readonly checksum: string;
  /** `P:` package name. */
  readonly name: string;
  /** `V:` version, e.g. `3.2.0-r23`. */
  readonly version: string;
  /** `A:` architecture; absent for arch-less entries (apk omits an empty one). */
  readonly arch?: string;
  /**
   * `S:` size of the .apk file in bytes. Informational only: apk and apko
   * identify and verify a package by `C:`, never by size, and Wolfi's
   * published indexes were off by 1–4 bytes for a while (re-signed packages),
   * so a package whose size differs slightly from this must not be rejected.
   * 0 when the field is absent.
   */
  readonly size: number;
  /** `I:` installed size in bytes (sum apk shows; 0 when absent). */
  readonly installedSize: number;
  /** `T:` one-line description ("" when absent). */
  readonly description: string;
  /** `U:` project URL ("" when absent). */
  readonly url: string;
  /** `L:` license expression ("" when absent). */
  readonly license: string;
  /** `o:` origin (source package) name. */
  readonly origin?: string;
  /** `m:` maintainer. */
  readonly maintainer?: string;
  /** `t:` build time, seconds since the epoch. */
  readonly buildTime?: number;
  /** `c:` source commit id. */
  readonly commit?: string;
  /** `k:` provider priority (which provider of a virtual name wins). */
  readonly providerPriority?: number;
  /** `D:` dependency atoms, as written (`so:libc.musl-x86_64.so.1`, `!foo`, `bar>=1`). */
  readonly depends: readonly string[];
  /** `p:` provided names, as written (`cmd:sh=1.36.1-r15`). */
  readonly provides: readonly string[];
  /** `i:` install-if atoms: install this when all of them are installed. */
  readonly installIf: readonly string[];
}

/** Letters that only the installed database uses; apk ignores them in an index. */
export const INSTALLED_DB_LETTERS = new Set(["F", "M", "R", "Z", "a", "r", "q", "s", "f", "g"]);

/** What applying one `X:value` line did. */
export type FieldOutcome =
  | { readonly kind: "applied" }
  /** An installed-database letter (the caller decides what it means). */
  | { readonly kind: "installed-db" }
  /** Unknown lowercase letter: apk ignores it. */
  | { readonly kind: "ignored" }
  /** Unknown uppercase letter, or a value apk cannot use: the package is unusable. */
  | { readonly kind: "unusable"; readonly reason: string };

// Shared outcome objects: apply() runs once per index line (hundreds of
// thousands for a large index), so it must not allocate.
const APPLIED: FieldOutcome = { kind: "applied" };
const INSTALLED_DB: FieldOutcome = { kind: "installed-db" };
const IGNORED: FieldOutcome = { kind: "ignored" };

interface MutableFields {
  checksum?: string;
  name?: string;
  version?: string;
  arch?: string;
  size?: number;
  installedSize?: number;
  description?: string;
  url?: string;
  license?: string;
  origin?: string;
  maintainer?: string;
  buildTime?: number;
  commit?: string;
  providerPriority?: number;
  depends: string[];
  provides: string[];
  installIf: string[];
}

/**
 * Collects the package letters of one record. Repeated letters behave as in
 * apk-tools: a repeated single-valued field keeps its last value, repeated
 * `D:`/`p:`/`i:` lines add up.
 */
export class IndexFieldCollector {
  private readonly fields: MutableFields = { depends: [], provides: [], installIf: [] };

  /** Applies one line's letter and value. */
  apply(letter: string, value: string): FieldOutcome {
    const f = this.fields;
    switch (letter) {
      case "C":
        if (!isPackageChecksum(value)) {
          return { kind: "unusable", reason: `C: "${value}" is not a package checksum` };
        }
        f.checksum = value;
        break;
      case "P":
        f.name = value;
        break;
      case "V":
        f.version = value;
        break;
      case "A":
        f.arch = value;
        break;
      case "T":
        f.description = value;
        break;
      case "U":
        f.url = value;
        break;
      case "L":
        f.license = value;
        break;
      case "o":
        f.origin = value;
        break;
      case "m":
        f.maintainer = value;
        break;
      case "c":
        f.commit = value;
        break;
      case "D":
        f.depends.push(...splitAtoms(value));
        break;
      case "p":
        f.provides.push(...splitAtoms(value));
        break;
      case "i":
        f.installIf.push(...splitAtoms(value));
        break;
      case "S":
      case "I":
      case "t":
      case "k": {
        const number = parseDecimal(value);
        if (number === undefined) {
          return { kind: "unusable", reason: `${letter}: "${value}" is not a number` };
        }
        if (letter === "S") f.size = number;
        else if (letter === "I") f.installedSize = number;
        else if (letter === "t") f.buildTime = number;
        else f.providerPriority = number;
        break;
      }
      default:
        if (INSTALLED_DB_LETTERS.has(letter)) return INSTALLED_DB;
        // apk-tools: "lower case index entries are safe to be ignored"; an
        // unknown upper-case one marks the package uninstallable.
        if (letter >= "a" && letter <= "z") return IGNORED;
        return {
          kind: "unusable",
          reason: `unknown field ${letter}: (apk marks such a package uninstallable)`,
        };
    }
    return APPLIED;
  }

  /** `name-version` for messages, as far as known. */
  label(): string {
    const { name, version } = this.fields;
    if (name === undefined) return "package";
    return version === undefined ? name : `${name}-${version}`;
  }

  /** The finished entry, or why there is none (apk needs P:, V: and C:). */
  finish(): { readonly entry: IndexEntry } | { readonly reason: string } {
    const f = this.fields;
    if (f.name === undefined || f.name === "") return { reason: "no P: (name)" };
    if (f.version === undefined || f.version === "")
      return { reason: `${f.name}: no V: (version)` };
    if (f.checksum === undefined) {
      return { reason: `${f.name}-${f.version}: no C: checksum, so apk cannot identify it` };
    }
    // Optional fields are set only when present (exactOptionalPropertyTypes),
    // without spreading temporary objects: this runs once per index record.
    const entry: { -readonly [K in keyof IndexEntry]: IndexEntry[K] } = {
      checksum: f.checksum,
      name: f.name,
      version: f.version,
      size: f.size ?? 0,
      installedSize: f.installedSize ?? 0,
      description: f.description ?? "",
      url: f.url ?? "",
      license: f.license ?? "",
      depends: f.depends,
      provides: f.provides,
      installIf: f.installIf,
    };
    if (f.arch !== undefined && f.arch !== "") entry.arch = f.arch;
    if (f.origin !== undefined && f.origin !== "") entry.origin = f.origin;
    if (f.maintainer !== undefined && f.maintainer !== "") entry.maintainer = f.maintainer;
    if (f.buildTime !== undefined && f.buildTime !== 0) entry.buildTime = f.buildTime;
    if (f.commit !== undefined && f.commit !== "") entry.commit = f.commit;
    if (f.providerPriority !== undefined && f.providerPriority !== 0) {
      entry.providerPriority = f.providerPriority;
    }
    return { entry };
  }
}

/**
 * Whether `value` is a checksum apk accepts for a package: `Q1` + base64
 * SHA-1 (what every v2 index uses), `Q2` + base64 SHA-256, or hex SHA-1/SHA-256.
 */
export function isPackageChecksum(value: string): boolean {
  return (
    /^Q1[A-Za-z0-9+/]{27}=$/.test(value) ||
    /^Q2[A-Za-z0-9+/]{43}=$/.test(value) ||
    /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value)
  );
}

/**
 * Atoms of a `D:`/`p:`/`i:`/`r:` value. apko writes Go's empty-slice text
 * `[]` for an empty list; it is read as empty, which is also what apk ends up
 * doing in effect (no package is named `[]`).
 */
export function splitAtoms(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed === "" || trimmed === "[]") return [];
  return trimmed.split(/[ \t]+/);
}

/** A non-negative decimal integer, or undefined. */
export function parseDecimal(value: string): number | undefined {
  if (!/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The lines apk-tools writes for a package, in its order
 * (`C P V A S I T U L o m t c k D p i`), each ending in `\n`.
 * `T`, `U` and `L` are always written; `A`, `o`, `m`, `c` only when not
 * empty, `t` and `k` only when not zero, `D`/`p`/`i` only when not empty.
 * @throws FieldError when a value holds a newline or a number is invalid.
 */
export function formatIndexEntryLines(entry: IndexEntry, location: ApkErrorLocation = {}): string {
  const where = (field: string): ApkErrorLocation => ({
    ...location,
    entry: `${entry.name}-${entry.version}`,
    field,
  });
  const text = (letter: string, value: string) => {
    if (value.includes("\n")) throw new FieldError("value holds a newline", where(`${letter}:`));
    return `${letter}:${value}\n`;
  };
  const number = (letter: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new FieldError(`${value} is not a non-negative integer`, where(`${letter}:`));
    }
    return `${letter}:${value}\n`;
  };
  const atoms = (letter: string, values: readonly string[]) => {
    if (values.length === 0) return "";
    for (const atom of values) {
      if (atom === "" || /\s/.test(atom)) {
        throw new FieldError(`atom "${atom}" is empty or holds white space`, where(`${letter}:`));
      }
    }
    return `${letter}:${values.join(" ")}\n`;
  };
  if (!isPackageChecksum(entry.checksum)) {
    throw new FieldError(`"${entry.checksum}" is not a package checksum`, where("C:"));
  }
  let out = text("C", entry.checksum) + text("P", entry.name) + text("V", entry.version);
  if (entry.arch !== undefined && entry.arch !== "") out += text("A", entry.arch);
  out += number("S", entry.size) + number("I", entry.installedSize);
  out += text("T", entry.description) + text("U", entry.url) + text("L", entry.license);
  if (entry.origin !== undefined && entry.origin !== "") out += text("o", entry.origin);
  if (entry.maintainer !== undefined && entry.maintainer !== "") {
    out += text("m", entry.maintainer);
  }
  if (entry.buildTime !== undefined && entry.buildTime !== 0) out += number("t", entry.buildTime);
  if (entry.commit !== undefined && entry.commit !== "") out += text("c", entry.commit);
  if (entry.providerPriority !== undefined && entry.providerPriority !== 0) {
    out += number("k", entry.providerPriority);
  }
  return out + atoms("D", entry.depends) + atoms("p", entry.provides) + atoms("i", entry.installIf);
}
