/**
 * Errors of @tailor/oci. Each names what it is about (the layer entry, the
 * architecture, the digest) and the constraint that failed.
 */

/** Base class of every error this library throws on bad input. */
export class OciError extends Error {
  override readonly name: string = "OciError";
}

/** A layer entry cannot be written: bad path, link, mode, owner, time, size or PAX record. */
export class InvalidLayerEntryError extends OciError {
  override readonly name = "InvalidLayerEntryError";
  /** The entry's path as the caller gave it. */
  readonly path: string;
  /** What is wrong with it, without the path. */
  readonly reason: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(`layer entry "${path}": ${reason}`, options);
    this.path = path;
    this.reason = reason;
  }
}

/** An architecture that has no OCI platform mapping. */
export class UnknownArchitectureError extends OciError {
  override readonly name = "UnknownArchitectureError";
  /** The architecture as given. */
  readonly arch: string;

  constructor(arch: string) {
    super(`architecture "${arch}" has no OCI platform (known: ${KNOWN_ARCHES})`);
    this.arch = arch;
  }
}

const KNOWN_ARCHES =
  "x86_64, aarch64, armv7, armhf, x86, ppc64le, s390x, riscv64, loongarch64, or the OCI names";

/** A digest that is not `sha256:` followed by 64 lowercase hex digits. */
export class InvalidDigestError extends OciError {
  override readonly name = "InvalidDigestError";
  /** The value as given. */
  readonly digest: string;

  constructor(digest: string) {
    super(`"${digest.slice(0, 100)}" is not a sha256 digest (sha256:<64 lowercase hex>)`);
    this.digest = digest;
  }
}

/** Bytes written under a digest hash to something else. */
export class DigestMismatchError extends OciError {
  override readonly name = "DigestMismatchError";
  /** The digest the caller named. */
  readonly expected: string;
  /** The digest of the bytes received. */
  readonly actual: string;

  constructor(expected: string, actual: string) {
    super(`blob content hashes to ${actual}, not the expected ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A layout path that would leave the layout directory or is otherwise malformed. */
export class InvalidLayoutPathError extends OciError {
  override readonly name = "InvalidLayoutPathError";
  /** The path as given. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`layout path "${path}": ${reason}`);
    this.path = path;
  }
}
