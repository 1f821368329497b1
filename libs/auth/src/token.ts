import type { KeyObject } from "node:crypto";
import { randomUUID, sign, verify } from "node:crypto";
import { TokenError } from "./errors.js";
import type { Principal } from "./principal.js";
import { quoted } from "./quoted.js";
import type { Audience, Role } from "./roles.js";
import { isAudience, isRole } from "./roles.js";
import type { PublicTokenKey, SigningKey } from "./signing-key.js";
import { parsePrivateTokenKey, parsePublicTokenKey, TOKEN_ALGORITHM } from "./signing-key.js";

/** The `iss` of every Tailor token. */
export const TOKEN_ISSUER = "tailor";

// Clocks of different machines disagree a little; tokens are short-lived anyway.
const CLOCK_SKEW_SECONDS = 30;

/** What a signer needs to know about the bearer. */
export interface TokenSubject {
  readonly subject: string;
  readonly subjectName: string;
  readonly orgId?: string;
  readonly orgName?: string;
  readonly role?: Role;
  readonly administrator: boolean;
  /** What the token is limited to (e.g. `repository:acme/api:pull`); unset: not limited. */
  readonly scopes?: readonly string[];
}

/** Mints tokens with one signing key. */
export interface TokenSigner {
  readonly keyId: string;
  /** Signs a token for `audience` valid `ttlSeconds` from now. */
  sign(
    subject: TokenSubject,
    audience: Audience,
    ttlSeconds: number,
  ): { token: string; principal: Principal };
}

interface Payload {
  iss: string;
  sub: string;
  name: string;
  aud: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  org?: string;
  org_name?: string;
  role?: string;
  adm?: boolean;
  /** Space-separated scopes, as OAuth 2.0 writes them. */
  scope?: string;
}

function base64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Creates a signer for `key`; `clock` is injectable for tests. @default clock `() => new Date()` */
export function createTokenSigner(
  key: SigningKey,
  clock: () => Date = () => new Date(),
): TokenSigner {
  const privateKey = parsePrivateTokenKey(key.privateKeyPem);
  return {
    keyId: key.id,
    sign(subject, audience, ttlSeconds) {
      if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
        throw new RangeError(
          `token lifetime must be a positive number of seconds, got ${ttlSeconds}`,
        );
      }
      const now = Math.floor(clock().getTime() / 1000);
      const payload: Payload = {
        iss: TOKEN_ISSUER,
        sub: subject.subject,
        name: subject.subjectName,
        aud: audience,
        iat: now,
        nbf: now,
        exp: now + ttlSeconds,
        jti: randomUUID(),
        ...(subject.orgId === undefined ? {} : { org: subject.orgId }),
        ...(subject.orgName === undefined ? {} : { org_name: subject.orgName }),
        ...(subject.role === undefined ? {} : { role: subject.role }),
        ...(subject.administrator ? { adm: true } : {}),
        ...(subject.scopes === undefined || subject.scopes.length === 0
          ? {}
          : { scope: subject.scopes.join(" ") }),
      };
      const header = { alg: TOKEN_ALGORITHM, typ: "JWT", kid: key.id };
      const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      const signature = sign(null, Buffer.from(signingInput), privateKey);
      return {
        token: `${signingInput}.${base64url(signature)}`,
        principal: principalFrom(payload, key.id),
      };
    },
  };
}

function principalFrom(payload: Payload, keyId: string): Principal {
  return {
    subject: payload.sub,
    subjectName: payload.name,
    audience: payload.aud as Audience,
    ...(payload.org === undefined ? {} : { orgId: payload.org }),
    ...(payload.org_name === undefined ? {} : { orgName: payload.org_name }),
    ...(payload.role === undefined ? {} : { role: payload.role as Role }),
    administrator: payload.adm === true,
    ...(typeof payload.scope === "string" && payload.scope.trim() !== ""
      ? { scopes: payload.scope.trim().split(/\s+/) }
      : {}),
    tokenId: payload.jti,
    keyId,
    issuedAt: new Date(payload.iat * 1000),
    expiresAt: new Date(payload.exp * 1000),
  };
}

/** Where a verifier gets the public keys tokens may be signed with. */
export type TokenKeySource = () => Promise<readonly PublicTokenKey[]>;

/** A key source that always answers `keys`. */
export function staticKeySource(keys: readonly PublicTokenKey[]): TokenKeySource {
  return () => Promise.resolve(keys);
}

/** Verifies tokens against the keys of a {@link TokenKeySource}. */
export interface TokenVerifier {
  /** The principal of a valid token for `audience`; throws TokenError saying which check failed. */
  verify(token: string, audience: Audience): Promise<Principal>;
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  readonly keys: TokenKeySource;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /**
   * A token signed by a key not yet known triggers a reload of the keys
   * (rotation), at most this often, so forged `kid`s cannot flood the source
   * while a real rotation is picked up within about a second.
   * @default 1000
   */
  readonly minimumReloadIntervalMs?: number;
  /**
   * Keys loaded longer ago than this are re-read before the next
   * verification, so a key the source stopped publishing (retired past its
   * window, or removed after a compromise) stops verifying. When that re-read
   * fails the cached keys keep serving, and the next verification tries again
   * (at most once per `minimumReloadIntervalMs`).
   * @default 300000 (5 minutes)
   */
  readonly maximumKeyAgeMs?: number;
}

function decodeJson(part: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch (error) {
    throw new TokenError("malformed", `token ${what} is not base64url JSON`, { cause: error });
  }
}

function parsePayload(value: unknown): Payload {
  if (typeof value !== "object" || value === null)
    throw new TokenError("malformed", "token payload is not an object");
  const p = value as Record<string, unknown>;
  for (const field of ["iss", "sub", "aud", "jti"] as const) {
    if (typeof p[field] !== "string")
      throw new TokenError("malformed", `token claim "${field}" is missing`);
  }
  for (const field of ["iat", "nbf", "exp"] as const) {
    if (typeof p[field] !== "number")
      throw new TokenError("malformed", `token claim "${field}" is missing`);
  }
  if (p.role !== undefined && !isRole(p.role))
    throw new TokenError("malformed", `token role ${quoted(String(p.role))} is unknown`);
  if (p.adm !== true && (typeof p.org !== "string" || p.role === undefined)) {
    throw new TokenError("malformed", "token names no organization and role");
  }
  return {
    ...(p as unknown as Payload),
    name: typeof p.name === "string" ? p.name : String(p.sub),
  };
}

/**
 * Creates a verifier; keys load on first use, reload when an unknown key id
 * appears, and are re-read once older than `maximumKeyAgeMs`.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const clock = options.clock ?? (() => new Date());
  const minimumReloadIntervalMs = options.minimumReloadIntervalMs ?? 1000;
  const maximumKeyAgeMs = options.maximumKeyAgeMs ?? 300_000;
  let keys: Map<string, KeyObject> | undefined;
  let loading: Promise<Map<string, KeyObject>> | undefined;
  // Times on `clock`: the last successful load and the last attempt.
  let loadedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  const sinceAttempt = () => clock().getTime() - attemptedAt;

  const load = (): Promise<Map<string, KeyObject>> => {
    if (loading === undefined) {
      attemptedAt = clock().getTime();
      loading = options
        .keys()
        .then((list) => {
          const map = new Map<string, KeyObject>();
          for (const key of list) map.set(key.id, parsePublicTokenKey(key.publicKeyPem));
          keys = map;
          loadedAt = clock().getTime();
          return map;
        })
        .finally(() => {
          loading = undefined;
        });
    }
    return loading;
  };

  const currentKeys = async (): Promise<Map<string, KeyObject>> => {
    if (keys === undefined) return load();
    if (
      clock().getTime() - loadedAt < maximumKeyAgeMs ||
      sinceAttempt() < minimumReloadIntervalMs
    ) {
      return keys;
    }
    const cached = keys;
    // A source that is briefly down must not stop every call: keep the cached keys.
    return load().catch(() => cached);
  };

  const keyFor = async (kid: string): Promise<KeyObject> => {
    let map = await currentKeys();
    let key = map.get(kid);
    if (key === undefined && sinceAttempt() >= minimumReloadIntervalMs) {
      map = await load();
      key = map.get(kid);
    }
    if (key === undefined)
      throw new TokenError("unknown_key", `token is signed by unknown key ${quoted(kid)}`);
    return key;
  };

  return {
    async verify(token, audience) {
      const parts = token.split(".");
      if (
        parts.length !== 3 ||
        parts.some((part) => part === "" || !/^[A-Za-z0-9_-]+$/.test(part))
      ) {
        throw new TokenError("malformed", "token is not a compact JWS (header.payload.signature)");
      }
      const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
      const decodedHeader = decodeJson(headerPart, "header");
      // JSON.parse happily returns null, numbers or arrays; only an object is a JWS header.
      if (
        typeof decodedHeader !== "object" ||
        decodedHeader === null ||
        Array.isArray(decodedHeader)
      ) {
        throw new TokenError("malformed", "token header is not a JSON object");
      }
      const header = decodedHeader as { alg?: unknown; kid?: unknown };
      if (header.alg !== TOKEN_ALGORITHM) {
        throw new TokenError(
          "unsupported_algorithm",
          `token algorithm ${quoted(String(header.alg))} is not ${TOKEN_ALGORITHM}`,
        );
      }
      if (typeof header.kid !== "string" || header.kid === "")
        throw new TokenError("malformed", "token header has no key id");
      const key = await keyFor(header.kid);
      const valid = verify(
        null,
        Buffer.from(`${headerPart}.${payloadPart}`),
        key,
        Buffer.from(signaturePart, "base64url"),
      );
      if (!valid) throw new TokenError("bad_signature", "token signature does not verify");
      const payload = parsePayload(decodeJson(payloadPart, "payload"));
      if (payload.iss !== TOKEN_ISSUER)
        throw new TokenError(
          "wrong_issuer",
          `token issuer ${quoted(payload.iss)} is not ${TOKEN_ISSUER}`,
        );
      if (!isAudience(payload.aud) || payload.aud !== audience) {
        throw new TokenError(
          "wrong_audience",
          `token is for audience ${quoted(payload.aud)}, not "${audience}"`,
        );
      }
      const now = clock().getTime() / 1000;
      if (payload.exp + CLOCK_SKEW_SECONDS <= now) {
        throw new TokenError(
          "expired",
          `token expired at ${new Date(payload.exp * 1000).toISOString()}`,
        );
      }
      if (payload.nbf - CLOCK_SKEW_SECONDS > now) {
        throw new TokenError(
          "not_yet_valid",
          `token is not valid before ${new Date(payload.nbf * 1000).toISOString()}`,
        );
      }
      return principalFrom(payload, header.kid);
    },
  };
}
