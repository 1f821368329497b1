import type { ServiceCredentials } from "./service-credentials.js";
import { createServiceCredentials } from "./service-credentials.js";
import type { TokenKeySource } from "./token.js";

/**
 * The part of the entitlement service's client that publishes token keys
 * (GetTokenKeys), typed structurally so this library needs no generated code.
 */
export interface TokenKeysClient {
  getTokenKeys(request: Record<string, never>): Promise<{
    readonly keys: readonly { readonly id: string; readonly publicKeyPem: string }[];
  }>;
}

/** A google.protobuf.Timestamp as the generated messages carry it. */
export interface IssuedTokenTimestamp {
  readonly seconds: bigint;
  readonly nanos: number;
}

/**
 * The part of the entitlement service's client that exchanges an API key for
 * a token (IssueToken); `A` is the generated Audience enum.
 */
export interface TokenIssuingClient<A> {
  issueToken(request: { apiKey: string; audience: A }): Promise<{
    readonly token: string;
    readonly expiresAt?: IssuedTokenTimestamp | undefined;
  }>;
}

/**
 * The token keys the entitlement service currently publishes, fetched on each
 * call (the verifier caches them).
 */
export function entitlementTokenKeys(client: TokenKeysClient): TokenKeySource {
  return async () => {
    const response = await client.getTokenKeys({});
    return response.keys.map((key) => ({ id: key.id, publicKeyPem: key.publicKeyPem }));
  };
}

/**
 * Credentials of a service acting as itself: `apiKey` exchanged with the
 * entitlement service for a token of `audience`. A token without an expiry
 * counts as already expired (it is used once, then exchanged again).
 */
export function entitlementServiceCredentials<A>(
  client: TokenIssuingClient<A>,
  apiKey: string,
  audience: A,
): ServiceCredentials {
  return createServiceCredentials({
    apiKey,
    async issueToken(key) {
      const issued = await client.issueToken({ apiKey: key, audience });
      return {
        token: issued.token,
        expiresAt: issued.expiresAt === undefined ? new Date() : timestampDate(issued.expiresAt),
      };
    },
  });
}

/** Same conversion as timestampDate of @bufbuild/protobuf/wkt. */
function timestampDate(timestamp: IssuedTokenTimestamp): Date {
  return new Date(Number(timestamp.seconds) * 1000 + Math.round(timestamp.nanos / 1_000_000));
}
