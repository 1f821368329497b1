import { createHash } from "node:crypto";
import type { Audience, Principal, TokenVerifier } from "@tailor/auth";
import { parseApiKey, TokenError } from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";

/** A credential the gateway accepted: who it is and the token to forward. */
export interface ResolvedCredential {
  readonly principal: Principal;
  /** A token of the requested audience (minted from an API key, or the presented one). */
  readonly token: string;
}

/** Why a credential was refused; the HTTP layer turns it into 401. */
export class CredentialRejectedError extends Error {
  constructor(
    message: string,
    /** Rate-limit key of the credential: `key:<hash>` for API keys, `token:<hash>` otherwise. */
    readonly limitKey: string,
  ) {
    super(message);
    this.name = "CredentialRejectedError";
  }
}

/** Turns what a client presented (API key or token) into a verified principal and a token. */
export interface CredentialResolver {
  /**
   * Accepts an API key (exchanged with the entitlement service for a token of
   * `audience`, limited to `scopes` when given, cached until shortly before it
   * expires) or a token of `audience` (verified locally with the entitlement
   * service's keys; it keeps its own scopes).
   * @throws CredentialRejectedError when the credential is not valid for `audience`.
   */
  resolve(
    credential: string,
    audience: Audience,
    scopes?: readonly string[],
  ): Promise<ResolvedCredential>;
  /**
   * The credential when it can be checked without asking the entitlement
   * service: a token that verifies, or an API key exchanged recently.
   * Undefined otherwise (including for invalid credentials).
   */
  resolveLocally(credential: string, audience: Audience): Promise<ResolvedCredential | undefined>;
  /** Rate-limit key of a credential (a hash of all of it), without checking it. */
  limitKey(credential: string): string;
}

const AUDIENCE_ENUM: Readonly<Record<Audience, entitlementV1.Audience>> = {
  api: entitlementV1.Audience.API,
  registry: entitlementV1.Audience.REGISTRY,
  apk: entitlementV1.Audience.APK,
};

/** A cached token is exchanged again when it has less than this left. */
const REFRESH_MARGIN_MS = 30_000;
/** Cached exchanges kept at most (oldest dropped first). */
const MAX_CACHED = 10_000;

/** Options of {@link createCredentialResolver}. */
export interface CredentialResolverOptions {
  readonly entitlement: Pick<ServiceClient<typeof entitlementV1.EntitlementService>, "issueToken">;
  readonly verifier: TokenVerifier;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * Resolves API keys and tokens. API key exchanges are cached by a hash of the
 * key (never the key itself), so a busy `docker pull` or `apk update` costs one
 * IssueToken per key and audience per token lifetime; a revoked key stops
 * working when its cached token expires at the latest.
 */
export function createCredentialResolver(options: CredentialResolverOptions): CredentialResolver {
  const now = options.now ?? (() => new Date());
  const cache = new Map<string, Promise<ResolvedCredential>>();

  // The whole secret, hashed: a key id is public, so counting failures per id
  // would let anyone lock a real key out with wrong secrets.
  function limitKey(credential: string): string {
    const raw = credential.trim();
    const kind = parseApiKey(raw) === undefined ? "token" : "key";
    return `${kind}:${hashOf(raw).slice(0, 22)}`;
  }

  async function cachedExchange(
    raw: string,
    audience: Audience,
  ): Promise<ResolvedCredential | undefined> {
    const cached = cache.get(`${audience}::${hashOf(raw)}`);
    if (cached === undefined) return undefined;
    const resolved = await cached.catch(() => undefined);
    return resolved !== undefined &&
      resolved.principal.expiresAt.getTime() - now().getTime() > REFRESH_MARGIN_MS
      ? resolved
      : undefined;
  }

  async function exchange(
    apiKey: string,
    audience: Audience,
    scopes: readonly string[],
  ): Promise<ResolvedCredential> {
    let issued: entitlementV1.IssueTokenResponse;
    try {
      issued = await options.entitlement.issueToken({
        apiKey,
        audience: AUDIENCE_ENUM[audience],
        ...(scopes.length === 0 ? {} : { scopes: [...scopes] }),
      });
    } catch (error) {
      if (
        error instanceof TailorError &&
        (error.code === Code.UNAUTHENTICATED || error.code === Code.PERMISSION_DENIED)
      ) {
        throw new CredentialRejectedError(error.message, limitKey(apiKey));
      }
      throw error;
    }
    return {
      token: issued.token,
      principal: await options.verifier.verify(issued.token, audience),
    };
  }

  return {
    limitKey,
    async resolveLocally(credential, audience) {
      const raw = credential.trim();
      if (raw === "") return undefined;
      if (parseApiKey(raw) !== undefined) return cachedExchange(raw, audience);
      try {
        return { token: raw, principal: await options.verifier.verify(raw, audience) };
      } catch {
        return undefined;
      }
    },
    async resolve(credential, audience, scopes = []) {
      const raw = credential.trim();
      if (raw === "") throw new CredentialRejectedError("no credential was given", "anonymous");
      if (parseApiKey(raw) === undefined) {
        try {
          return { token: raw, principal: await options.verifier.verify(raw, audience) };
        } catch (error) {
          if (error instanceof TokenError) {
            throw new CredentialRejectedError(
              `the token is not valid for "${audience}": ${error.message}`,
              limitKey(raw),
            );
          }
          throw error;
        }
      }
      const cacheKey = `${audience}:${scopes.join(" ")}:${hashOf(raw)}`;
      const cached = cache.get(cacheKey);
      if (cached !== undefined) {
        const resolved = await cached.catch(() => undefined);
        if (
          resolved !== undefined &&
          resolved.principal.expiresAt.getTime() - now().getTime() > REFRESH_MARGIN_MS
        ) {
          return resolved;
        }
        if (cache.get(cacheKey) === cached) cache.delete(cacheKey);
      }
      const pending = exchange(raw, audience, scopes);
      cache.set(cacheKey, pending);
      if (cache.size > MAX_CACHED) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      pending.catch(() => {
        if (cache.get(cacheKey) === pending) cache.delete(cacheKey);
      });
      return pending;
    },
  };
}
