import { createHash } from "node:crypto";
import { InvalidBlobDigestError } from "./errors.js";

/** A blob's content address: `"sha256:"` followed by 64 lowercase hex digits. */
export type BlobDigest = string;

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** Whether `value` is a well-formed {@link BlobDigest} (safe to use as a file or object name). */
export function isBlobDigest(value: string): boolean {
  return digestPattern.test(value);
}

/** The {@link BlobDigest} of `bytes`. */
export function sha256Digest(bytes: Uint8Array): BlobDigest {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Returns the 64 hex digits of `digest`, or throws {@link InvalidBlobDigestError}. */
export function digestHex(digest: BlobDigest): string {
  if (typeof digest !== "string" || !isBlobDigest(digest))
    throw new InvalidBlobDigestError(String(digest));
  return digest.slice("sha256:".length);
}
