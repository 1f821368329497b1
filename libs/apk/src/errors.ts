/**
 * Errors of @tailor/apk. Every error says which file (when the caller named
 * it), which entry or field, and what is wrong, so an operator can act on it.
 */

/** Where in an input the problem is: the caller's file name, an entry, a field, a line. */
export interface ApkErrorLocation {
  /** The file the caller is reading (package, index, database), when known. */
  readonly file?: string;
  /** The archive entry (tar path) concerned, when any. */
  readonly entry?: string;
  /** The field (e.g. `pkgver`, `V:`) concerned, when any. */
  readonly field?: string;
  /** 1-based line number in a text format, when any. */
  readonly line?: number;
  /** Byte offset in the input, when known. */
  readonly offset?: number;
}

function describe(location: ApkErrorLocation): string {
  const parts: string[] = [];
  if (location.file !== undefined) parts.push(location.file);
  if (location.entry !== undefined) parts.push(`entry "${location.entry}"`);
  if (location.field !== undefined) parts.push(`field ${location.field}`);
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.offset !== undefined) parts.push(`offset ${location.offset}`);
  return parts.length === 0 ? "" : `${parts.join(", ")}: `;
}

/** Base class of every error this library throws on bad input. */
export class ApkError extends Error {
  override readonly name: string = "ApkError";
  /** Where the problem is. */
  readonly location: ApkErrorLocation;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(detail: string, location: ApkErrorLocation = {}, options?: { cause?: unknown }) {
    super(`${describe(location)}${detail}`, options);
    this.detail = detail;
    this.location = location;
  }

  /** The same error with the caller's file name added to its location. */
  withFile(file: string): ApkError {
    if (this.location.file !== undefined) return this;
    const Constructor = this.constructor as new (
      detail: string,
      location: ApkErrorLocation,
      options?: { cause?: unknown },
    ) => ApkError;
    return new Constructor(this.detail, { ...this.location, file }, { cause: this.cause });
  }
}

/** Compressed data is truncated or corrupt (gzip framing, deflate stream, CRC, size). */
export class GzipError extends ApkError {
  override readonly name = "GzipError";
}

/** A tar stream is malformed: bad header checksum, truncated entry, bad number field. */
export class TarError extends ApkError {
  override readonly name = "TarError";
}

/** An archive entry is unsafe: `..`, absolute path, escaping link, device node, whiteout. */
export class UnsafeEntryError extends ApkError {
  override readonly name = "UnsafeEntryError";
}

/** An input is bigger than allowed (size, entry count, expansion ratio): a bomb or a mistake. */
export class LimitExceededError extends ApkError {
  override readonly name = "LimitExceededError";
}

/** A package's structure is wrong: missing .PKGINFO, unexpected control entries, bad segments. */
export class PackageFormatError extends ApkError {
  override readonly name = "PackageFormatError";
}

/** A metadata field (.PKGINFO, APKINDEX, installed db) is missing, duplicated, conflicting or invalid. */
export class FieldError extends ApkError {
  override readonly name = "FieldError";
}

/** A version string is not valid under apk-tools' rules. */
export class VersionError extends ApkError {
  override readonly name = "VersionError";
}

/** A dependency atom (`name>=1.2`, `!foo`, `so:libc.so.6`) does not parse. */
export class AtomError extends ApkError {
  override readonly name = "AtomError";
}

/** A signature is missing, unknown or wrong; see the two subclasses. */
export class SignatureError extends ApkError {
  override readonly name: string = "SignatureError";
  /** "untrusted": no key in the keyring can check it; "bad": the signature does not match. */
  get verdict(): "untrusted" | "bad" {
    return "bad";
  }
}

/** No signature, or none made by a key in the keyring (apk: UNTRUSTED). */
export class UntrustedSignatureError extends SignatureError {
  override readonly name = "UntrustedSignatureError";
  override get verdict(): "untrusted" {
    return "untrusted";
  }
}

/** A signature by a trusted key that does not match the signed bytes (apk: BAD signature). */
export class BadSignatureError extends SignatureError {
  override readonly name = "BadSignatureError";
  override get verdict(): "bad" {
    return "bad";
  }
}

/** A content hash does not match (datahash, index checksum, file checksum). */
export class IntegrityError extends ApkError {
  override readonly name = "IntegrityError";
}
