/**
 * Error classes of `@tailor/blob`, one per condition, so callers branch on
 * `instanceof` rather than on message text. Underlying I/O errors are kept as
 * `cause`.
 */

/** Base class of every error thrown by `@tailor/blob`. */
export class BlobError extends Error {
  override name = "BlobError";
}

/** The store holds no blob with this digest. */
export class BlobNotFoundError extends BlobError {
  override name = "BlobNotFoundError";

  /** The digest that was asked for. */
  readonly digest: string;

  constructor(digest: string, options?: { cause?: unknown }) {
    super(`blob ${digest} not found`, options);
    this.digest = digest;
  }
}

/** The bytes put did not hash to the `expectedDigest` the caller gave; nothing was stored. */
export class BlobDigestMismatchError extends BlobError {
  override name = "BlobDigestMismatchError";

  /** The digest the caller expected. */
  readonly expected: string;
  /** The digest of the bytes actually received. */
  readonly actual: string;

  constructor(expected: string, actual: string, options?: { cause?: unknown }) {
    super(`blob digest mismatch: expected ${expected}, got ${actual}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** The bytes put were not `expectedSize` long; nothing was stored. */
export class BlobSizeMismatchError extends BlobError {
  override name = "BlobSizeMismatchError";

  /** The size in bytes the caller expected. */
  readonly expected: number;
  /**
   * Bytes received. When the source was longer than expected, reading stopped
   * at the first chunk past `expected`, so this is a lower bound.
   */
  readonly actual: number;

  constructor(expected: number, actual: number, options?: { cause?: unknown }) {
    const got = actual > expected ? `more than ${expected} bytes` : `${actual} bytes`;
    super(`blob size mismatch: expected ${expected} bytes, got ${got}`, options);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A range read asked for bytes outside the blob, or gave a negative or fractional bound. */
export class BlobRangeError extends BlobError {
  override name = "BlobRangeError";

  /** The blob that was read. */
  readonly digest: string;
  /** The blob's size in bytes. */
  readonly size: number;

  constructor(digest: string, size: number, message: string, options?: { cause?: unknown }) {
    super(`invalid range for blob ${digest} (${size} bytes): ${message}`, options);
    this.digest = digest;
    this.size = size;
  }
}

/** `readBlob` refused to collect a blob larger than its `maxBytes`. */
export class BlobTooLargeError extends BlobError {
  override name = "BlobTooLargeError";

  /** The blob that was read. */
  readonly digest: string;
  /** The limit that was exceeded, in bytes. */
  readonly maxBytes: number;

  constructor(digest: string, maxBytes: number, options?: { cause?: unknown }) {
    super(`blob ${digest} is larger than ${maxBytes} bytes`, options);
    this.digest = digest;
    this.maxBytes = maxBytes;
  }
}

/** A string given as a digest is not `sha256:` followed by 64 lowercase hex digits. */
export class InvalidBlobDigestError extends BlobError {
  override name = "InvalidBlobDigestError";

  /** The refused value (shortened when long). */
  readonly value: string;

  constructor(value: string, options?: { cause?: unknown }) {
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    super(
      `invalid blob digest ${JSON.stringify(shown)}: expected "sha256:" and 64 lowercase hex digits`,
      options,
    );
    this.value = shown;
  }
}
