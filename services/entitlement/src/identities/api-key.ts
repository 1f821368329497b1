/** An API key as shown to its owners: never its secret. */
export interface ApiKey {
  /** Public key id, the `<id>` of `tlr_<id>_<secret>`. */
  readonly id: string;
  readonly identityId: string;
  readonly description: string;
  readonly createdAt: Date;
  /** Undefined when the key does not expire. */
  readonly expiresAt?: Date;
  readonly revokedAt?: Date;
  /** Last time the key minted a token. */
  readonly lastUsedAt?: Date;
}

/** Longest lifetime an API key may be given, in days (ten years). */
export const MAX_API_KEY_TTL_DAYS = 3650;

/** Longest description an API key may carry, in characters. */
export const MAX_API_KEY_DESCRIPTION_LENGTH = 200;

/** True when `id` has the shape of an API key id (12 lowercase letters or digits). */
export function isApiKeyId(id: string): boolean {
  return /^[a-z0-9]{12}$/.test(id);
}
