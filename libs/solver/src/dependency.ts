/**
 * Dependency atoms as the solver holds them: apk-tools' relation masks
 * (`=`, `<`, `>`, fuzzy `~`, conflict `!`) over interned names, and the
 * matching rules of apk's `apk_dep_is_provided` / `apk_dep_analyze`.
 * Version ordering itself is `@tailor/apk`'s.
 */
import type { Atom, VersionOp } from "@tailor/apk";
import { isValidVersion, parseAtom, versionRelation } from "@tailor/apk";
import type { NameNode, PackageNode } from "./universe-types.js";

/** Relation bits, as apk-tools numbers them. */
export const EQUAL = 1;
export const LESS = 2;
export const GREATER = 4;
export const FUZZY = 8;
export const CONFLICT = 16;
/** Every relation: the version does not matter. */
export const ANY = EQUAL | LESS | GREATER;
/** `><`: the atom pins a package by checksum. */
export const CHECKSUM = LESS | GREATER;

const OP_MASKS: Readonly<Record<VersionOp, number>> = {
  "<": LESS,
  "<=": LESS | EQUAL,
  "<~": LESS | EQUAL | FUZZY,
  "=": EQUAL,
  "~": EQUAL | FUZZY,
  ">~": GREATER | EQUAL | FUZZY,
  ">=": GREATER | EQUAL,
  ">": GREATER,
  "><": CHECKSUM,
};

/** One parsed atom whose name is interned in a universe. */
export interface Dep {
  readonly name: NameNode;
  /** Relation mask, with {@link CONFLICT} for `!name`. */
  readonly mask: number;
  /** Compared version (or checksum for `><`); null when the atom has none. */
  readonly version: string | null;
  /** Repository tag without `@` (world atoms only). */
  readonly tag: string | undefined;
  /** The version is not one apk accepts: the package carrying it is uninstallable. */
  readonly broken: boolean;
}

/** The parts of an atom before its name is interned. */
export interface AtomParts {
  readonly name: string;
  readonly mask: number;
  readonly version: string | null;
  readonly tag: string | undefined;
  readonly broken: boolean;
}

/**
 * Parses an atom with `@tailor/apk`'s parser (versions apk calls invalid are
 * kept and flagged, as apk does when loading metadata).
 * @throws AtomError when the atom does not parse at all.
 */
export function parseAtomParts(text: string): AtomParts {
  return parseSimpleAtom(text) ?? parseAtomSlowly(text);
}

/** Characters apk allows in a name (src/ctype.c): letters, digits and `+ - . _ , : / [ ]`. */
const NAME_CHARS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._,:/[]") {
  NAME_CHARS[c.charCodeAt(0)] = 1;
}
const SIMPLE_OPS: Readonly<Record<string, number>> = {
  "=": EQUAL,
  "<": LESS,
  ">": GREATER,
  "<=": LESS | EQUAL,
  ">=": GREATER | EQUAL,
  "~": EQUAL | FUZZY,
};

/**
 * The common atoms (`[!]name`, `[!]name<op>version` with a usual op) read
 * without building an Atom; undefined for anything else, which the full
 * parser then handles (and reports).
 */
function parseSimpleAtom(text: string): AtomParts | undefined {
  const length = text.length;
  const conflict = text.charCodeAt(0) === 33; // "!"
  let i = conflict ? 1 : 0;
  const nameStart = i;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c >= 128 || NAME_CHARS[c] !== 1) break;
    i++;
  }
  if (i === nameStart) return undefined;
  const name = text.slice(nameStart, i);
  if (i === length) {
    return {
      name,
      mask: conflict ? ANY | CONFLICT : ANY,
      version: null,
      tag: undefined,
      broken: false,
    };
  }
  const opStart = i;
  while (i < length && i - opStart < 3) {
    const c = text.charCodeAt(i);
    if (c !== 60 && c !== 61 && c !== 62 && c !== 126) break; // < = > ~
    i++;
  }
  const mask = SIMPLE_OPS[text.slice(opStart, i)];
  if (mask === undefined || i === length) return undefined;
  for (let j = i; j < length; j++) {
    const c = text.charCodeAt(j);
    // white space, a tag or another operator: the full parser decides
    if (c <= 32 || c >= 127 || c === 64 || c === 60 || c === 61 || c === 62 || c === 126)
      return undefined;
  }
  const version = text.slice(i);
  return {
    name,
    mask: conflict ? mask | CONFLICT : mask,
    version,
    tag: undefined,
    broken: !isValidVersion(version),
  };
}

function parseAtomSlowly(text: string): AtomParts {
  const atom: Atom = parseAtom(text, {}, { allowInvalidVersion: true });
  let mask = ANY;
  let version: string | null = null;
  if (atom.op !== undefined) {
    mask = OP_MASKS[atom.op];
    version = atom.op === "><" ? (atom.checksum ?? null) : (atom.version ?? null);
  }
  if (atom.conflict) mask |= CONFLICT;
  const broken = atom.op !== undefined && atom.op !== "><" && !isValidVersion(version ?? "");
  return { name: atom.name, mask, version, tag: atom.tag, broken };
}

/** True for `!name` atoms. */
export function isConflict(dep: Dep): boolean {
  return (dep.mask & CONFLICT) !== 0;
}

/** apk's comparison result bits of two versions; a missing version compares as anything. */
export function compareMask(a: string | null, b: string | null, fuzzy: boolean): number {
  if (a === null || b === null) return a === null && b === null ? EQUAL : ANY;
  const relation = versionRelation(a, b, fuzzy);
  return relation === "<" ? LESS : relation === ">" ? GREATER : EQUAL;
}

/** apk_version_match: whether `version` stands in relation `mask` to `target`. */
export function versionMatches(
  version: string | null,
  mask: number,
  target: string | null,
): boolean {
  let ok =
    (mask & ANY) === ANY || (compareMask(version, target, (mask & FUZZY) !== 0) & mask) !== 0;
  if (mask & CONFLICT) ok = !ok;
  return ok;
}

/** A package under one of its names: its own version, or a provide's (null when unversioned). */
export interface Provider {
  readonly pkg: PackageNode;
  readonly version: string | null;
}

/** apk_dep_is_provided: whether `provider` (null: nothing chosen) satisfies `dep` of `owner`. */
export function isProvided(
  owner: PackageNode | null,
  dep: Dep,
  provider: Provider | null,
): boolean {
  if (provider === null) return (dep.mask & CONFLICT) !== 0;
  if ((dep.mask & CONFLICT) !== 0 && owner === provider.pkg) return true;
  if (dep.mask === CHECKSUM) return provider.pkg.info.checksum === dep.version;
  return versionMatches(provider.version, dep.mask, dep.version);
}

/** What a dependency says about a package: apk_dep_analyze's answers. */
export const IRRELEVANT = 1;
export const SATISFIES = 2;
export const CONFLICTS = 4;

/** apk_dep_analyze: does `dep` of `owner` concern `pkg`, and is it met by it? */
export function analyzeDep(owner: PackageNode | null, dep: Dep, pkg: PackageNode): number {
  if (dep.name === pkg.name) {
    let ok: boolean;
    if (dep.mask === CHECKSUM) ok = pkg.info.checksum === dep.version;
    else ok = versionMatches(pkg.info.version, dep.mask, dep.version);
    return ok ? SATISFIES : CONFLICTS;
  }
  for (const provide of pkg.provides) {
    if (provide.name !== dep.name) continue;
    return isProvided(owner, dep, { pkg, version: provide.version }) ? SATISFIES : CONFLICTS;
  }
  return IRRELEVANT;
}

/** apk_version_op_string. */
export function opString(mask: number): string {
  switch (mask & ~CONFLICT) {
    case LESS:
      return "<";
    case LESS | EQUAL:
      return "<=";
    case LESS | EQUAL | FUZZY:
      return "<~";
    case EQUAL | FUZZY:
    case FUZZY:
      return "~";
    case EQUAL:
      return "=";
    case GREATER | EQUAL:
      return ">=";
    case GREATER | EQUAL | FUZZY:
      return ">~";
    case GREATER:
      return ">";
    case CHECKSUM:
      return "><";
    case ANY:
      return "";
    default:
      return "?";
  }
}

/** An atom as apk prints it in reports (`!name>1`); the tag is not part of it. */
export function formatDep(dep: Dep): string {
  const head = `${dep.mask & CONFLICT ? "!" : ""}${dep.name.name}`;
  return dep.version === null ? head : `${head}${opString(dep.mask)}${dep.version}`;
}
