import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TokenSubject } from "@tailor/auth";
import {
  apiKeySecretMatches,
  hashApiKeySecret,
  parseApiKey,
  requireAdministrator,
  TokenError,
} from "@tailor/auth";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { EntitlementDependencies } from "../entitlement-dependencies.js";
import type { Identity } from "../identities/identity.js";
import { InvalidFieldError } from "../requests/errors.js";
import { findApiKeyCredential, touchApiKey } from "../store/api-key-store.js";
import { findIdentity } from "../store/identity-store.js";
import { findOrganization } from "../store/organization-store.js";
import { InvalidApiKeyError, TokenIdentityGoneError } from "../tokens/errors.js";
import { tokenLifetimeSeconds } from "../tokens/token-lifetime.js";
import { audienceFromProto, tokenClaimsMessage, tokenKeyMessage } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type EntitlementImpl = ServiceImpl<typeof entitlementV1.EntitlementService>;

/** Handlers that mint, verify and publish tokens and their keys. */
export type TokenHandlers = Pick<
  EntitlementImpl,
  "issueToken" | "verifyToken" | "getTokenKeys" | "rotateSigningKey"
>;

// Compared against when the key id is unknown, so an unknown id and a wrong
// secret take the same time and a caller cannot tell them apart.
const UNKNOWN_KEY_HASH = hashApiKeySecret("no key has this secret");

/** What a token says about `identity`, read from the database now (role and org name included). */
async function tokenSubjectOf(
  deps: EntitlementDependencies,
  identity: Identity,
): Promise<TokenSubject> {
  if (identity.administrator) {
    return { subject: identity.id, subjectName: identity.name, administrator: true };
  }
  const organization =
    identity.orgId === undefined ? undefined : await findOrganization(deps.db, identity.orgId);
  if (organization === undefined || identity.role === undefined) {
    throw new TokenIdentityGoneError(identity.id);
  }
  return {
    subject: identity.id,
    subjectName: identity.name,
    orgId: organization.id,
    orgName: organization.name,
    role: identity.role,
    administrator: false,
  };
}

/**
 * The identity an API key speaks for, and how many seconds the key has left
 * when it expires (a token minted with it must not outlive it);
 * InvalidApiKeyError when it may not mint tokens.
 */
async function subjectOfApiKey(
  deps: EntitlementDependencies,
  credential: string,
): Promise<{ subject: TokenSubject; remainingSeconds?: number }> {
  const parsed = parseApiKey(credential);
  if (parsed === undefined) throw new InvalidApiKeyError("malformed");
  const stored = await findApiKeyCredential(deps.db, parsed.id);
  const matches = apiKeySecretMatches(parsed.secret, stored?.secretHash ?? UNKNOWN_KEY_HASH);
  if (stored === undefined || !matches) throw new InvalidApiKeyError("invalid");
  const now = deps.now();
  if (stored.key.revokedAt !== undefined) throw new InvalidApiKeyError("revoked");
  if (stored.key.expiresAt !== undefined && stored.key.expiresAt <= now) {
    throw new InvalidApiKeyError("expired");
  }
  const identity = await findIdentity(deps.db, stored.key.identityId);
  // Deleting an identity revokes its keys; this covers a delete racing the check above.
  if (identity === undefined || identity.deletedAt !== undefined) {
    throw new InvalidApiKeyError("revoked");
  }
  const subject = await tokenSubjectOf(deps, identity);
  await touchApiKey(deps.db, stored.key.id, now);
  if (stored.key.expiresAt === undefined) return { subject };
  // At least a second: the expiry check above passed, so the key is still valid now.
  const remainingSeconds = Math.max(
    1,
    Math.floor((stored.key.expiresAt.getTime() - now.getTime()) / 1000),
  );
  return { subject, remainingSeconds };
}

/**
 * The identity of the caller's own `api` token, for an exchange. The new
 * token may not outlive that one, so a stolen token cannot be renewed for
 * ever after its API key is revoked.
 */
async function subjectOfBearer(
  deps: EntitlementDependencies,
  ctx: Pick<HandlerContext, "metadata">,
): Promise<{ subject: TokenSubject; remainingSeconds: number; scopes?: readonly string[] }> {
  const principal = await deps.authenticate(ctx);
  const identity = await findIdentity(deps.db, principal.subject);
  if (identity === undefined || identity.deletedAt !== undefined) {
    throw new TokenIdentityGoneError(principal.subject);
  }
  const remainingSeconds = Math.floor(
    (principal.expiresAt.getTime() - deps.now().getTime()) / 1000,
  );
  if (remainingSeconds < 1) {
    throw new TokenError("expired", `token expired at ${principal.expiresAt.toISOString()}`);
  }
  return {
    subject: await tokenSubjectOf(deps, identity),
    remainingSeconds,
    ...(principal.scopes === undefined ? {} : { scopes: principal.scopes }),
  };
}

/** `repository:acme/api:pull`: a resource type, a name, actions. */
const SCOPE = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._/-]{1,255}:[a-z*]{1,16}(,[a-z*]{1,16}){0,7}$/;
const MAX_SCOPES = 32;

/**
 * The scopes a new token gets: the requested ones (checked for shape), which
 * must stay within the original token's when a scoped token is exchanged;
 * none requested keeps the original's.
 * @throws InvalidFieldError naming `scopes[i]`; PERMISSION_DENIED when a scope would widen the original.
 */
function scopesFor(
  requested: readonly string[],
  original: readonly string[] | undefined,
): string[] {
  if (requested.length > MAX_SCOPES) {
    throw new InvalidFieldError("scopes", `at most ${MAX_SCOPES} scopes, got ${requested.length}`);
  }
  const scopes: string[] = [];
  requested.forEach((scope, index) => {
    const trimmed = scope.trim();
    if (!SCOPE.test(trimmed)) {
      throw new InvalidFieldError(
        `scopes[${index}]`,
        `scope ${JSON.stringify(scope.slice(0, 300))} is not <type>:<name>:<actions>, e.g. "repository:acme/api:pull"`,
      );
    }
    if (original !== undefined && !original.includes(trimmed)) {
      throw new TailorError(
        Code.PERMISSION_DENIED,
        `scope "${trimmed}" is outside the scopes of the token being exchanged`,
        { reason: "scope_widened", field: `scopes[${index}]` },
      );
    }
    if (!scopes.includes(trimmed)) scopes.push(trimmed);
  });
  return scopes.length === 0 ? [...(original ?? [])] : scopes;
}

/** gRPC handlers for tokens and signing keys. */
export function createTokenHandlers(deps: EntitlementDependencies): TokenHandlers {
  return {
    issueToken: (request, ctx) =>
      withStatus(async () => {
        const audience = audienceFromProto(request.audience);
        let subject: TokenSubject;
        let ttlSeconds: number;
        let scopes: string[];
        if (request.apiKey !== "") {
          const minted = await subjectOfApiKey(deps, request.apiKey);
          subject = minted.subject;
          ttlSeconds = tokenLifetimeSeconds(request.ttlSeconds, minted.remainingSeconds);
          scopes = scopesFor(request.scopes, undefined);
        } else {
          const exchange = await subjectOfBearer(deps, ctx);
          subject = exchange.subject;
          ttlSeconds = tokenLifetimeSeconds(request.ttlSeconds, exchange.remainingSeconds);
          scopes = scopesFor(request.scopes, exchange.scopes);
        }
        if (scopes.length > 0 && audience !== "registry") {
          throw new InvalidFieldError(
            "scopes",
            `scopes narrow registry tokens only; a${audience === "api" ? "n" : ""} ${audience} token cannot carry them`,
          );
        }
        const { token, principal } = await deps.tokens.sign(
          scopes.length === 0 ? subject : { ...subject, scopes },
          audience,
          ttlSeconds,
        );
        ctx.logger.debug(
          { subject: principal.subject, audience, tokenId: principal.tokenId, ttlSeconds },
          "token issued",
        );
        return {
          token,
          expiresAt: timestampFromDate(principal.expiresAt),
          claims: tokenClaimsMessage(principal),
        };
      }),

    verifyToken: (request) =>
      withStatus(async () => {
        const audience = audienceFromProto(request.audience);
        if (request.token === "") throw new InvalidFieldError("token", "token is required");
        const principal = await deps.tokens.verify(request.token, audience);
        return { claims: tokenClaimsMessage(principal) };
      }),

    getTokenKeys: () =>
      withStatus(async () => ({
        keys: (await deps.tokens.verificationKeys()).map(tokenKeyMessage),
      })),

    rotateSigningKey: (_request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "rotate the token signing key");
        const key = await deps.tokens.rotate();
        ctx.logger.info({ keyId: key.id, by: principal.subject }, "token signing key rotated");
        return { key: tokenKeyMessage(key) };
      }),
  };
}
