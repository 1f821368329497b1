/** sha256 digests in the `sha256:<hex>` form OCI descriptors use. */
import { createHash } from "node:crypto";
import { InvalidDigestError } from "./errors.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The `sha256:<hex>` digest of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Whether `value` is `sha256:` followed by 64 lowercase hex digits. */
export function isSha256Digest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * The hex part of a sha256 digest, checked, so it is safe as a file name.
 * @throws InvalidDigestError when `digest` is not `sha256:<64 lowercase hex>`.
 */
export function digestHex(digest: string): string {
  if (!isSha256Digest(digest)) throw new InvalidDigestError(digest);
  return digest.slice("sha256:".length);
}
