/** Why a token was refused; stable strings callers may switch on. */
export type TokenErrorReason =
  | "malformed"
  | "unsupported_algorithm"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_audience"
  | "wrong_issuer";

/** A token that does not verify; `reason` says which check failed. */
export class TokenError extends Error {
  override readonly name = "TokenError";
  constructor(
    readonly reason: TokenErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
