import { authorizationMetadata } from "./request-auth.js";

/** A token minted from an API key, with its expiry. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresAt: Date;
}

/** Options of {@link createServiceCredentials}. */
export interface ServiceCredentialsOptions {
  /** The service's API key (`tlr_<id>_<secret>`, TAILOR_SERVICE_API_KEY). */
  readonly apiKey: string;
  /** Exchanges the API key for an `api` token (the entitlement service's IssueToken). */
  readonly issueToken: (apiKey: string) => Promise<IssuedToken>;
  /**
   * How long before expiry a cached token is replaced.
   * @default 60_000
   */
  readonly refreshBeforeMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** Call credentials of a service acting as itself (not for a caller). */
export interface ServiceCredentials {
  /** Metadata `authorization: Bearer <token>` with a token valid for at least a minute more. */
  metadata(): Promise<Record<string, string>>;
  /** Forgets the cached token, e.g. after a call answered UNAUTHENTICATED. */
  invalidate(): void;
}

/**
 * Credentials for service-to-service calls: the API key is exchanged for a
 * token once and the token reused until about a minute before it expires.
 * Concurrent callers share one exchange; a failed exchange is not cached.
 */
export function createServiceCredentials(options: ServiceCredentialsOptions): ServiceCredentials {
  const now = options.now ?? (() => new Date());
  const margin = options.refreshBeforeMs ?? 60_000;
  let cached: IssuedToken | undefined;
  let pending: Promise<IssuedToken> | undefined;

  async function token(): Promise<IssuedToken> {
    if (cached !== undefined && cached.expiresAt.getTime() - margin > now().getTime()) {
      return cached;
    }
    pending ??= options.issueToken(options.apiKey).then(
      (issued) => {
        cached = issued;
        pending = undefined;
        return issued;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  }

  return {
    async metadata() {
      return authorizationMetadata((await token()).token);
    },
    invalidate() {
      cached = undefined;
    },
  };
}
