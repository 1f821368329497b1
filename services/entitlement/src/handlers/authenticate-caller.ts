import type { Principal, TokenVerifier } from "@tailor/auth";
import { authenticate } from "@tailor/auth";
import type { HandlerContext } from "@tailor/grpc";
import { isUuid } from "../requests/request-fields.js";
import type { EntitlementDb } from "../store/entitlement-database.js";
import { findIdentity } from "../store/identity-store.js";
import { TokenIdentityGoneError } from "../tokens/errors.js";

/**
 * The caller of an entitlement RPC: its `api` bearer token verified, then
 * checked against the identity as stored now. Other services trust a token
 * until it expires, but this one hands out identities and API keys, so a
 * deleted identity's token must not plant a new identity or key that
 * outlives the deletion (UNAUTHENTICATED), and a demoted owner acts with its
 * current role, not the one its token was minted with.
 */
export async function authenticateCaller(
  db: EntitlementDb,
  verifier: TokenVerifier,
  ctx: Pick<HandlerContext, "metadata">,
): Promise<Principal> {
  const principal = await authenticate(ctx, verifier, "api");
  const identity = isUuid(principal.subject)
    ? await findIdentity(db, principal.subject)
    : undefined;
  if (identity === undefined || identity.deletedAt !== undefined) {
    throw new TokenIdentityGoneError(principal.subject);
  }
  const { orgId: _orgId, orgName, role: _role, ...rest } = principal;
  return {
    ...rest,
    // Identities never change organization; the name is the one minted.
    ...(identity.orgId === undefined
      ? {}
      : { orgId: identity.orgId, ...(orgName === undefined ? {} : { orgName }) }),
    ...(identity.role === undefined ? {} : { role: identity.role }),
    administrator: identity.administrator,
  };
}
