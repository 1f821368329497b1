import type { HandlerContext } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import { TokenError } from "./errors.js";
import type { Principal } from "./principal.js";
import { quoted, shortened } from "./quoted.js";
import type { Audience, Role } from "./roles.js";
import { roleAllows } from "./roles.js";
import type { TokenVerifier } from "./token.js";

/** The gRPC metadata key carrying `Bearer <token>`. */
export const AUTHORIZATION_HEADER = "authorization";

/** Metadata that authenticates an outgoing call with `token`. */
export function authorizationMetadata(token: string): Record<string, string> {
  return { [AUTHORIZATION_HEADER]: `Bearer ${token}` };
}

/** The bearer token of an incoming call, if it sent one. */
export function bearerToken(ctx: Pick<HandlerContext, "metadata">): string | undefined {
  const value = ctx.metadata.get(AUTHORIZATION_HEADER);
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match === null ? undefined : match[1];
}

/**
 * The principal of an incoming call: its bearer token verified for
 * `audience`. UNAUTHENTICATED (with the reason) when there is none or it
 * does not verify.
 */
export async function authenticate(
  ctx: Pick<HandlerContext, "metadata">,
  verifier: TokenVerifier,
  audience: Audience = "api",
): Promise<Principal> {
  const token = bearerToken(ctx);
  if (token === undefined) {
    throw new TailorError(
      Code.UNAUTHENTICATED,
      "missing credentials: send metadata `authorization: Bearer <token>`",
      {
        reason: "missing_token",
      },
    );
  }
  try {
    return await verifier.verify(token, audience);
  } catch (error) {
    if (error instanceof TokenError) {
      throw new TailorError(Code.UNAUTHENTICATED, `invalid token: ${error.message}`, {
        reason: `token_${error.reason}`,
        cause: error,
      });
    }
    // The key source (entitlement) being unreachable is not the caller's fault.
    throw new TailorError(
      Code.UNAVAILABLE,
      "cannot verify tokens right now: token keys are unavailable",
      {
        reason: "token_keys_unavailable",
        cause: error,
      },
    );
  }
}

/** PERMISSION_DENIED unless the principal is a platform administrator. */
export function requireAdministrator(principal: Principal, action: string): void {
  if (!principal.administrator) {
    throw new TailorError(Code.PERMISSION_DENIED, `only a platform administrator may ${action}`, {
      reason: "administrator_required",
    });
  }
}

/**
 * Checks that the principal may act on organization `orgId` with at least
 * `minimum`. Administrators always may. A member of another organization
 * gets NOT_FOUND, as if the organization did not exist, so tenants cannot
 * probe each other; a member with too weak a role gets PERMISSION_DENIED
 * naming the role needed.
 */
export function requireOrgRole(
  principal: Principal,
  orgId: string,
  minimum: Role,
  action: string,
): void {
  if (principal.administrator) return;
  if (principal.orgId !== orgId) {
    throw new TailorError(Code.NOT_FOUND, `organization ${quoted(orgId)} not found`, {
      reason: "organization_not_found",
      field: "org_id",
      metadata: { org_id: shortened(orgId) },
    });
  }
  if (principal.role === undefined || !roleAllows(principal.role, minimum)) {
    throw new TailorError(
      Code.PERMISSION_DENIED,
      `role "${principal.role ?? "none"}" may not ${action}: it needs "${minimum}" or above`,
      {
        reason: "role_insufficient",
        metadata: { required_role: minimum, role: principal.role ?? "" },
      },
    );
  }
}

/** True when the principal may read organization `orgId`'s data. */
export function canAccessOrg(principal: Principal, orgId: string): boolean {
  return principal.administrator || principal.orgId === orgId;
}
