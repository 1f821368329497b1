/** Why an API key was refused; "invalid" covers unknown ids and wrong secrets alike. */
export type ApiKeyRefusal = "malformed" | "invalid" | "revoked" | "expired";

/**
 * An API key that cannot mint tokens. The message never says whether the
 * key id exists; "revoked" and "expired" are only told to whoever presented
 * the right secret.
 */
export class InvalidApiKeyError extends Error {
  override readonly name = "InvalidApiKeyError";
  constructor(readonly refusal: ApiKeyRefusal) {
    super(
      refusal === "malformed"
        ? 'invalid API key: expected "tlr_<id>_<secret>"'
        : refusal === "invalid"
          ? "invalid API key"
          : `invalid API key: it is ${refusal}`,
    );
  }
}

/** The identity a token speaks for was deleted since the token was minted. */
export class TokenIdentityGoneError extends Error {
  override readonly name = "TokenIdentityGoneError";
  constructor(readonly identityId: string) {
    super(`the token's identity "${identityId}" no longer exists`);
  }
}
