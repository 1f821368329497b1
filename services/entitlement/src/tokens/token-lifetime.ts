/**
 * Lifetime of a token when the request asks for none: short, because a token
 * cannot be revoked (revoking its API key only stops new tokens).
 * @default 900 (15 minutes)
 */
export const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;

/**
 * Longest lifetime a token may have; longer requests are capped to it.
 * @default 43200 (12 hours)
 */
export const MAX_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/**
 * How long a retired signing key keeps verifying tokens: the longest a token
 * it signed can live, plus a minute for clocks that disagree.
 * @default 43260 (12 hours and 1 minute)
 */
export const RETIRED_KEY_VERIFICATION_SECONDS = MAX_TOKEN_TTL_SECONDS + 60;

/**
 * The lifetime to mint: `requested` (0 = the default) capped at the maximum
 * and at `remainingSeconds`: what is left of the token it was exchanged for,
 * or of the expiring API key it was minted with.
 */
export function tokenLifetimeSeconds(requested: number, remainingSeconds?: number): number {
  const wanted = requested === 0 ? DEFAULT_TOKEN_TTL_SECONDS : requested;
  const capped = Math.min(wanted, MAX_TOKEN_TTL_SECONDS);
  return remainingSeconds === undefined ? capped : Math.min(capped, remainingSeconds);
}
