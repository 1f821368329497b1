/**
 * Dependency atoms (`[!]name[@tag][op version]`) and provides (`name[=version]`),
 * as apk-tools reads them from `.PKGINFO`, APKINDEX `D:`/`p:`/`i:` lines and
 * /etc/apk/world.
 */
import type { ApkErrorLocation } from "../errors.js";
import { AtomError, VersionError } from "../errors.js";
import type { VersionOp } from "./version.js";
import { operatorMask, versionOpForMask, versionProblem } from "./version.js";

/**
 * One dependency atom. A versioned atom has `op` and `version`; a checksum pin
 * (`name><Q1…`) has `op: "><"` and `checksum` instead; a conflict (`!name`)
 * forbids what the rest of the atom matches.
 */
export interface Atom {
  /** Package or provided name: `busybox`, `so:libc.musl-x86_64.so.1`, `cmd:sh`, `/bin/sh`. */
  name: string;
  /** Repository tag after `@` (world entries only), without the `@`. */
  tag?: string;
  /** True for `!name`: the atom forbids rather than requires. */
  conflict: boolean;
  /** The comparison, in apk's canonical spelling; absent for "any version". */
  op?: VersionOp;
  /** The version compared against, for every op but `><`. */
  version?: string;
  /** The package identity (`Q1…` base64 or `X1…` hex) a `><` atom pins. */
  checksum?: string;
}

/** A name a package provides (`p:` / `provides`), optionally at a version. */
export interface Provide {
  /** The provided name, e.g. `so:libz.so.1`, `cmd:gzip`, `pc:zlib`. */
  name: string;
  /** The provided version; an unversioned provide cannot satisfy versioned dependencies. */
  version?: string;
}

/** Options of {@link parseAtom} and {@link parseProvide}. */
export interface ParseAtomOptions {
  /**
   * Keep a version apk calls invalid instead of throwing. apk-tools does this
   * when loading metadata: it keeps the atom but marks it broken (a package
   * whose `D:` has one is not installable). Real Alpine indexes contain some,
   * e.g. `pc:jemalloc=5.3.0_` and `pc:librtmp=v2.4`. Check such atoms with
   * `isValidVersion(atom.version)`.
   * @default false
   */
  allowInvalidVersion?: boolean;
}

/** Options of {@link parseDependencies} and {@link parseProvides}. */
export interface ParseDependenciesOptions extends ParseAtomOptions {
  /**
   * Accept `name@tag` atoms. apk accepts tags only in the world file; in
   * package metadata (`depend`, `D:`) they are an error. Ignored for provides.
   * @default false
   */
  allowTags?: boolean;
  /** Where the text comes from, for error messages. */
  location?: ApkErrorLocation;
}

// apk-tools' character classes (src/ctype.c): a dependency name is made of
// letters, digits and + - . _ , : / [ ]; operators of < = > ~.
const NAME_CHARACTER = /^[A-Za-z0-9+\-._,:/[\]]$/;
const OPERATOR_CHARACTERS = "<=>~";
// apk splits dependency lists at spaces and newlines only.
const SEPARATORS = /[ \n]+/;

/**
 * Parses one dependency atom such as `busybox`, `!foo`, `so:libc.so.6`,
 * `zlib>=1.3-r0`, `python3~3.12`, `foo@edge` or `foo><Q1…`, the way apk-tools
 * does: operators are any run of `<`, `=`, `>`, `~` (so `=~` reads as `~`), and
 * the version must be valid unless the atom is a checksum pin or
 * `options.allowInvalidVersion` is set. Repository tags are accepted, as in
 * the world file; {@link parseDependencies} rejects them by default.
 *
 * @throws AtomError naming the atom and what is wrong with it.
 */
export function parseAtom(
  text: string,
  location: ApkErrorLocation = {},
  options: ParseAtomOptions = {},
): Atom {
  return parseAtomText(text, location, true, options.allowInvalidVersion ?? false);
}

/**
 * Formats an atom the way apk-tools writes it (`!name@tag>=1.0`).
 *
 * @throws AtomError when the atom is inconsistent: an op without its version or
 * checksum, or a version or checksum without its op.
 */
export function formatAtom(atom: Atom): string {
  const head = `${atom.conflict ? "!" : ""}${atom.name}${atom.tag === undefined ? "" : `@${atom.tag}`}`;
  const error = (what: string) => new AtomError(`dependency ${JSON.stringify(head)} ${what}`);
  if (atom.op === undefined) {
    if (atom.version !== undefined)
      throw error(`has version ${JSON.stringify(atom.version)} but no op`);
    if (atom.checksum !== undefined) throw error('has a checksum but no "><" op');
    return head;
  }
  if (atom.op === "><") {
    if (atom.version !== undefined)
      throw error('has op "><", which takes a checksum, not a version');
    if (atom.checksum === undefined) throw error('has op "><" but no checksum');
    return `${head}><${atom.checksum}`;
  }
  if (atom.version === undefined) throw error(`has op "${atom.op}" but no version`);
  if (atom.checksum !== undefined)
    throw error(`has op "${atom.op}" and a checksum, which needs "><"`);
  return `${head}${atom.op}${atom.version}`;
}

/**
 * Parses a space- or newline-separated list of atoms, as in a `.PKGINFO`
 * `depend` value, an APKINDEX `D:` or `i:` line, or /etc/apk/world.
 *
 * @throws AtomError naming the first atom that does not parse.
 */
export function parseDependencies(depends: string, options: ParseDependenciesOptions = {}): Atom[] {
  const location = options.location ?? {};
  const allowTags = options.allowTags ?? false;
  const allowInvalidVersion = options.allowInvalidVersion ?? false;
  return splitAtoms(depends).map((text) =>
    parseAtomText(text, location, allowTags, allowInvalidVersion),
  );
}

/** Formats atoms as one space-separated list, the form of a `D:` line. */
export function formatDependencies(atoms: readonly Atom[]): string {
  return atoms.map(formatAtom).join(" ");
}

/**
 * Parses one provide: `name` or `name=version` (`so:libc.musl-x86_64.so.1=1`,
 * `cmd:busybox=1.36.1-r2`, `pc:zlib=1.3`).
 *
 * @throws AtomError for conflicts, tags, operators other than `=`, or an invalid
 * version (unless `options.allowInvalidVersion`).
 */
export function parseProvide(
  text: string,
  location: ApkErrorLocation = {},
  options: ParseAtomOptions = {},
): Provide {
  const atom = parseAtomText(text, location, false, options.allowInvalidVersion ?? false);
  const error = (what: string) =>
    new AtomError(`provide ${JSON.stringify(text)} ${what}`, location);
  if (atom.conflict) throw error('cannot be a conflict ("!")');
  if (atom.op !== undefined && atom.op !== "=") throw error(`must use "=", not "${atom.op}"`);
  return atom.version === undefined
    ? { name: atom.name }
    : { name: atom.name, version: atom.version };
}

/** Parses a space- or newline-separated list of provides, as on an APKINDEX `p:` line. */
export function parseProvides(provides: string, options: ParseDependenciesOptions = {}): Provide[] {
  const location = options.location ?? {};
  return splitAtoms(provides).map((text) => parseProvide(text, location, options));
}

/** Formats a provide as `name` or `name=version`. */
export function formatProvide(provide: Provide): string {
  return provide.version === undefined ? provide.name : `${provide.name}=${provide.version}`;
}

function splitAtoms(text: string): string[] {
  return text.split(SEPARATORS).filter((atom) => atom !== "");
}

function parseAtomText(
  text: string,
  location: ApkErrorLocation,
  allowTags: boolean,
  allowInvalidVersion: boolean,
): Atom {
  const error = (what: string, cause?: unknown) =>
    new AtomError(
      `dependency ${JSON.stringify(text)} ${what}`,
      location,
      cause === undefined ? undefined : { cause },
    );
  if (text === "") throw error("is empty");
  const whitespace = /\s/.exec(text);
  if (whitespace !== null) {
    throw error(`contains white space at offset ${whitespace.index}; a dependency is one word`);
  }

  const conflict = text.startsWith("!");
  const body = conflict ? text.slice(1) : text;
  // As apk: the name runs up to the first operator character, the operator is the
  // whole run of them, and the version is everything after.
  let operatorStart = 0;
  while (operatorStart < body.length && !OPERATOR_CHARACTERS.includes(body.charAt(operatorStart))) {
    operatorStart++;
  }
  let operatorEnd = operatorStart;
  while (operatorEnd < body.length && OPERATOR_CHARACTERS.includes(body.charAt(operatorEnd))) {
    operatorEnd++;
  }
  const nameAndTag = body.slice(0, operatorStart);
  const symbols = body.slice(operatorStart, operatorEnd);
  const value = body.slice(operatorEnd);

  const at = nameAndTag.indexOf("@");
  const name = at === -1 ? nameAndTag : nameAndTag.slice(0, at);
  const tag = at === -1 ? undefined : nameAndTag.slice(at + 1);

  if (name === "") throw error("has no name");
  checkCharacters(name, "name", error);
  if (tag !== undefined) {
    if (!allowTags) throw error(`has repository tag "@${tag}", which only the world file may use`);
    if (tag === "") throw error('has an empty repository tag after "@"');
    checkCharacters(tag, "repository tag", error);
  }

  const atom: Atom = tag === undefined ? { name, conflict } : { name, tag, conflict };
  if (symbols === "") return atom;
  if (value === "") throw error(`has op "${symbols}" but no version after it`);

  const op = versionOpForMask(operatorMask(symbols));
  if (op === undefined) {
    throw error(`has op "${symbols}", which every version satisfies; drop the op and version`);
  }
  if (op === "><") return { ...atom, op, checksum: value };
  const problem = allowInvalidVersion ? undefined : versionProblem(value);
  if (problem !== undefined) {
    const cause = new VersionError(`version ${JSON.stringify(value)} ${problem}`, location);
    throw error(`has an invalid version: ${JSON.stringify(value)} ${problem}`, cause);
  }
  return { ...atom, op, version: value };
}

function checkCharacters(text: string, what: string, error: (what: string) => AtomError): void {
  for (const character of text) {
    if (!NAME_CHARACTER.test(character)) {
      throw error(`has ${JSON.stringify(character)} in its ${what}, which apk does not allow`);
    }
  }
}
