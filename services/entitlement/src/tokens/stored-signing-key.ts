import type { SigningKey } from "@tailor/auth";

/** A token signing key as stored: the key pair plus when it was made and retired. */
export interface StoredSigningKey extends SigningKey {
  readonly createdAt: Date;
  /** Undefined for the current key. */
  readonly retiredAt?: Date;
}
