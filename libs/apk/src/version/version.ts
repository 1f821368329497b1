/**
 * apk-tools version strings: validity, ordering, fuzzy matching and the
 * comparison operators of dependency atoms, following apk-tools 3 (src/version.c).
 *
 * Grammar: `digits{.digits}[letter]{_suffix[digits]}[~hash][-rdigits]`, where a
 * suffix is one of alpha, beta, pre, rc (before the release) or cvs, svn, git,
 * hg, p (after it), and hash is lowercase hex.
 */
import type { ApkErrorLocation } from "../errors.js";
import { VersionError } from "../errors.js";

/**
 * An operator of a versioned dependency atom, spelled the way apk-tools writes
 * it back: `=`, `<`, `>`, `<=`, `>=`, fuzzy `~`, `<~`, `>~`, and `><`, which pins
 * a package by checksum rather than by version.
 */
export type VersionOp = "=" | "<" | ">" | "<=" | ">=" | "~" | "<~" | ">~" | "><";

/** Every {@link VersionOp}: from "older than" to "newer than", then the checksum pin. */
export const VERSION_OPS: readonly VersionOp[] = ["<", "<=", "<~", "=", "~", ">~", ">=", ">", "><"];

// Result bits of a comparison, combined into operator masks the way apk does:
// an operator holds when the comparison's bit is in its mask.
const EQUAL = 1;
const LESS = 2;
const GREATER = 4;
/** Set by `~`: compare only as far as the right-hand version goes. */
const FUZZY = 8;
/** Masks holding every relation: apk then ignores the version altogether. */
const ANY = EQUAL | LESS | GREATER;

const OP_MASKS: Readonly<Record<VersionOp, number>> = {
  "<": LESS,
  "<=": LESS | EQUAL,
  "<~": LESS | EQUAL | FUZZY,
  "=": EQUAL,
  "~": EQUAL | FUZZY,
  ">~": GREATER | EQUAL | FUZZY,
  ">=": GREATER | EQUAL,
  ">": GREATER,
  "><": LESS | GREATER,
};

/**
 * The relation mask of an operator spelling, as apk reads it: each `<`, `>`,
 * `=` adds its relation and `~` adds fuzzy-equal, so `=~`, `=<` or `<>` are
 * accepted spellings too; 0 when any character is not an operator character.
 */
export function operatorMask(symbols: string): number {
  let mask = 0;
  for (const symbol of symbols) {
    switch (symbol) {
      case "<":
        mask |= LESS;
        break;
      case ">":
        mask |= GREATER;
        break;
      case "=":
        mask |= EQUAL;
        break;
      case "~":
        mask |= FUZZY | EQUAL;
        break;
      default:
        return 0;
    }
  }
  return mask;
}

/**
 * The canonical operator for a relation mask from {@link operatorMask}, or
 * undefined when no operator means it (0, or a mask that every version meets).
 */
export function versionOpForMask(mask: number): VersionOp | undefined {
  // `~` alone is fuzzy-equal; masks that hold for every relation name no operator.
  const normalized = mask & FUZZY ? mask | EQUAL : mask;
  for (const op of VERSION_OPS) if (OP_MASKS[op] === normalized) return op;
  return undefined;
}

// Token kinds, in the order the parts may appear. The order also ranks versions
// that agree so far: the one whose next part comes earlier here is newer (a
// further number beats a letter, ..., a revision beats the end), except that a
// pre-release suffix is older than anything.
const INITIAL = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NUMBER = 4;
const COMMIT_HASH = 5;
const REVISION = 6;
const END = 7;
const INVALID = 8;

const PRE_RELEASE_SUFFIXES = ["alpha", "beta", "pre", "rc"];
const POST_RELEASE_SUFFIXES = ["cvs", "svn", "git", "hg", "p"];

/** Suffix ranks: negative before the release, positive after, 0 is "no suffix". */
const SUFFIX_RANKS: ReadonlyMap<string, number> = new Map([
  ...PRE_RELEASE_SUFFIXES.map((s, i): [string, number] => [s, i - PRE_RELEASE_SUFFIXES.length]),
  ...POST_RELEASE_SUFFIXES.map((s, i): [string, number] => [s, i + 1]),
]);

const CHAR_0 = 48;
const CHAR_9 = 57;
const CHAR_A = 97;
const CHAR_F = 102;
const CHAR_Z = 122;

function isDigit(code: number): boolean {
  return code >= CHAR_0 && code <= CHAR_9;
}

function isLowercaseLetter(code: number): boolean {
  return code >= CHAR_A && code <= CHAR_Z;
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= CHAR_A && code <= CHAR_F);
}

/** Walks a version string one part at a time; `kind` says what the current part is. */
class VersionTokens {
  kind = INITIAL;
  /** The current part's text is `text.slice(start, end)`, without its separator. */
  start = 0;
  end = 0;
  /** Rank of the current suffix, when kind is SUFFIX. */
  rank = 0;
  /** Why the version is invalid, when kind is INVALID. */
  problem = "";
  private position = 0;

  constructor(readonly text: string) {
    this.settle(this.readNumber("must start with a digit"));
  }

  /** Moves to the next part: END after the last one, INVALID at a misplaced or unknown one. */
  advance(): void {
    if (this.position >= this.text.length) this.kind = END;
    else this.settle(this.readPart());
  }

  /** Where the problem is, when kind is INVALID. */
  get offset(): number {
    return this.position;
  }

  private settle(problem: string | undefined): void {
    if (problem === undefined) return;
    this.kind = INVALID;
    this.problem = problem;
  }

  /** Reads the part at `position` and sets `kind`, or says why it is not allowed there. */
  private readPart(): string | undefined {
    const { text } = this;
    const code = text.charCodeAt(this.position);
    if (isLowercaseLetter(code)) {
      if (this.kind > DIGIT) return "a letter may only follow a number";
      this.start = this.position;
      this.position++;
      this.end = this.position;
      this.kind = LETTER;
      return undefined;
    }
    if (code === 46 /* . */ || isDigit(code)) {
      if (code === 46) {
        if (this.kind > DIGIT) return '"." may only follow a number';
        this.position++;
      }
      if (this.kind === INITIAL || this.kind === DIGIT) this.kind = DIGIT;
      else if (this.kind === SUFFIX) this.kind = SUFFIX_NUMBER;
      else return "a number may not follow a letter";
      return this.readNumber('"." must be followed by digits');
    }
    if (code === 95 /* _ */) {
      if (this.kind > SUFFIX_NUMBER) return 'a "_" suffix may not follow "~" or "-r"';
      this.position++;
      this.readSpan(isLowercaseLetter);
      const suffix = text.slice(this.start, this.end);
      const rank = SUFFIX_RANKS.get(suffix);
      if (rank === undefined) {
        this.position = this.start - 1;
        return `unknown suffix "_${suffix}" (known: ${[...SUFFIX_RANKS.keys()].join(", ")})`;
      }
      this.rank = rank;
      this.kind = SUFFIX;
      return undefined;
    }
    if (code === 126 /* ~ */) {
      if (this.kind >= COMMIT_HASH) return '"~" may appear once, before "-r"';
      this.position++;
      this.readSpan(isHexDigit);
      if (this.start === this.end) return '"~" must be followed by a lowercase hex hash';
      this.kind = COMMIT_HASH;
      return undefined;
    }
    if (code === 45 /* - */) {
      if (this.kind >= REVISION) return "only one revision is allowed";
      if (text.charCodeAt(this.position + 1) !== 114 /* r */)
        return '"-" may only start a revision "-rN"';
      this.position += 2;
      this.kind = REVISION;
      return this.readNumber('"-r" must be followed by digits');
    }
    return `unexpected character ${JSON.stringify(text[this.position])}`;
  }

  private readNumber(problemIfEmpty: string): string | undefined {
    this.readSpan(isDigit);
    return this.start === this.end ? problemIfEmpty : undefined;
  }

  private readSpan(accept: (code: number) => boolean): void {
    const { text } = this;
    this.start = this.position;
    while (this.position < text.length && accept(text.charCodeAt(this.position))) this.position++;
    this.end = this.position;
  }
}

/** Byte-wise order of two ASCII slices, a shorter prefix first (apk's blob sort). */
function compareText(a: VersionTokens, b: VersionTokens): number {
  const length = Math.min(a.end - a.start, b.end - b.start);
  for (let i = 0; i < length; i++) {
    const difference = a.text.charCodeAt(a.start + i) - b.text.charCodeAt(b.start + i);
    if (difference !== 0) return difference < 0 ? LESS : GREATER;
  }
  const difference = a.end - a.start - (b.end - b.start);
  return difference < 0 ? LESS : difference > 0 ? GREATER : EQUAL;
}

// Up to 15 digits fit a double exactly, and cannot overflow apk's uint64.
const SAFE_DIGITS = 15;

/** Numeric order of two digit runs, read as apk reads them: unsigned 64-bit, wrapping. */
function compareNumbers(a: VersionTokens, b: VersionTokens): number {
  const left = numberValue(a);
  const right = numberValue(b);
  return left < right ? LESS : left > right ? GREATER : EQUAL;
}

function numberValue(token: VersionTokens): number | bigint {
  const { text, start, end } = token;
  if (end - start <= SAFE_DIGITS) {
    let value = 0;
    for (let i = start; i < end; i++) value = value * 10 + (text.charCodeAt(i) - CHAR_0);
    return value;
  }
  return BigInt.asUintN(64, BigInt(text.slice(start, end)));
}

function compareTokens(a: VersionTokens, b: VersionTokens): number {
  switch (a.kind) {
    case DIGIT:
      // A later component with a leading zero compares as text (Gentoo's rule),
      // so 1.01 < 1.1 and 8.2.0 < 8.2.001.
      if (a.text.charCodeAt(a.start) === CHAR_0 || b.text.charCodeAt(b.start) === CHAR_0) {
        return compareText(a, b);
      }
      return compareNumbers(a, b);
    case INITIAL:
    case SUFFIX_NUMBER:
    case REVISION:
      return compareNumbers(a, b);
    case LETTER: {
      const difference = a.text.charCodeAt(a.start) - b.text.charCodeAt(b.start);
      return difference < 0 ? LESS : difference > 0 ? GREATER : EQUAL;
    }
    case SUFFIX:
      return a.rank < b.rank ? LESS : a.rank > b.rank ? GREATER : EQUAL;
    default:
      return compareText(a, b);
  }
}

/**
 * apk's comparison: EQUAL, LESS or GREATER. With `fuzzy`, `a` is equal to `b`
 * as soon as `b` runs out (so `3.6.9 ~ 3.6`). Invalid versions are compared up
 * to their first invalid part, which sorts below any valid continuation but a
 * pre-release suffix.
 */
function compareRelation(a: string, b: string, fuzzy: boolean): number {
  const left = new VersionTokens(a);
  const right = new VersionTokens(b);
  while (left.kind === right.kind && left.kind < END) {
    const relation = compareTokens(left, right);
    if (relation !== EQUAL) return relation;
    left.advance();
    right.advance();
  }
  if (left.kind === right.kind) return EQUAL;
  if (fuzzy && right.kind === END) return EQUAL;
  // Equal so far: a pre-release suffix makes its side older; otherwise the side
  // whose next part comes earlier in the grammar is newer (END comes last).
  if (left.kind === SUFFIX && left.rank < 0) return LESS;
  if (right.kind === SUFFIX && right.rank < 0) return GREATER;
  return left.kind > right.kind ? LESS : GREATER;
}

/** True when `version` is a valid apk version string. */
export function isValidVersion(version: string): boolean {
  return versionProblem(version) === undefined;
}

/** Why `version` is not valid (with the offset of the problem), or undefined when it is. */
export function versionProblem(version: string): string | undefined {
  const tokens = new VersionTokens(version);
  while (tokens.kind < END) tokens.advance();
  if (tokens.kind === END) return undefined;
  if (version === "") return "is empty";
  return `${tokens.problem} (at offset ${tokens.offset})`;
}

/**
 * Throws a {@link VersionError} saying what is wrong when `version` is not a
 * valid apk version; `location` names the file and field it came from.
 */
export function assertValidVersion(version: string, location: ApkErrorLocation = {}): void {
  const problem = versionProblem(version);
  if (problem !== undefined) {
    throw new VersionError(`version ${JSON.stringify(version)} ${problem}`, location);
  }
}

/**
 * Orders two versions as apk-tools does: -1 when `a` is older, 1 when newer,
 * 0 when equal. Usable directly as an `Array.prototype.sort` comparator.
 *
 * Invalid versions do not throw: like apk, they compare equal up to their first
 * invalid part, and that part sorts below any valid continuation but a
 * pre-release suffix (`1.0bc` < `1.0b`, `1.0_foo` > `1.0_alpha`); two versions
 * invalid at the same point compare equal (`abc` = `xyz`).
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const relation = compareRelation(a, b, false);
  return relation === LESS ? -1 : relation === GREATER ? 1 : 0;
}

/**
 * `version ~ pattern`: true when `version` equals `pattern` in every part
 * `pattern` has, so `3.6.9_p1` and `3.6_pre1` match `3.6`, while `3.8.0.1`
 * does not match `3.8.1` and `3.6` does not match `3.6.0`.
 */
export function matchesFuzzy(version: string, pattern: string): boolean {
  return versionSatisfies(version, "~", pattern);
}

/**
 * True when `version op target` holds under apk-tools' rules (apk_version_match):
 * `<~` and `>~` are fuzzy-or-less and fuzzy-or-greater. For `><` this is apk's
 * raw mask test (the versions differ); a checksum pin is matched against the
 * package's identity, not its version, so resolvers check that separately.
 * apk has no `!=` operator: a `!` before a name makes the whole atom a conflict.
 */
export function versionSatisfies(version: string, op: VersionOp, target: string): boolean {
  // Callers outside TypeScript may pass any string; prototype keys are not operators.
  const mask = Object.hasOwn(OP_MASKS, op) ? OP_MASKS[op] : undefined;
  if (mask === undefined) throw new VersionError(`unknown version operator ${JSON.stringify(op)}`);
  return matchesMask(version, mask, target);
}

/**
 * apk_version_match for a relation mask from {@link operatorMask}: a mask
 * holding every relation always matches, a 0 mask never does.
 */
export function matchesMask(version: string, mask: number, target: string): boolean {
  if ((mask & ANY) === ANY) return true;
  return (compareRelation(version, target, (mask & FUZZY) !== 0) & mask) !== 0;
}

/**
 * The relation apk sees between two versions, as `<`, `=` or `>`; with `fuzzy`
 * it is `=` as soon as `target` runs out.
 */
export function versionRelation(version: string, target: string, fuzzy = false): "<" | "=" | ">" {
  const relation = compareRelation(version, target, fuzzy);
  return relation === LESS ? "<" : relation === GREATER ? ">" : "=";
}
