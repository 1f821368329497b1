import { randomUUID } from "node:crypto";
import type { Principal } from "@tailor/auth";
import { generateApiKey, requireOrgRole } from "@tailor/auth";
import type { ServiceImpl } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { EntitlementDependencies } from "../entitlement-dependencies.js";
import {
  isApiKeyId,
  MAX_API_KEY_DESCRIPTION_LENGTH,
  MAX_API_KEY_TTL_DAYS,
} from "../identities/api-key.js";
import {
  AdministratorHasNoRoleError,
  ApiKeyNotFoundError,
  IdentityNotFoundError,
} from "../identities/errors.js";
import type { Identity } from "../identities/identity.js";
import { isValidIdentityName } from "../identities/identity.js";
import { OrganizationNotFoundError } from "../organizations/errors.js";
import { InvalidFieldError } from "../requests/errors.js";
import { quoted, requireUuid } from "../requests/request-fields.js";
import {
  findApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  revokeIdentityApiKeys,
} from "../store/api-key-store.js";
import {
  findIdentity,
  insertMember,
  listMembers,
  markIdentityDeleted,
  updateMemberRole,
} from "../store/identity-store.js";
import { findOrganization } from "../store/organization-store.js";
import { apiKeyMessage, identityMessage, roleFromProto } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type EntitlementImpl = ServiceImpl<typeof entitlementV1.EntitlementService>;

/** Handlers for identities and their API keys. */
export type IdentityHandlers = Pick<
  EntitlementImpl,
  | "createIdentity"
  | "listIdentities"
  | "setIdentityRole"
  | "deleteIdentity"
  | "createApiKey"
  | "listApiKeys"
  | "revokeApiKey"
>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Administrators see every identity; a member only those of its own organization. */
function mayView(principal: Principal, identity: Identity): boolean {
  return (
    principal.administrator || (identity.orgId !== undefined && identity.orgId === principal.orgId)
  );
}

/**
 * The identity a request names, as the caller may see it: another tenant's
 * identity (and a deleted one, unless `includeDeleted`) is reported exactly
 * like an unknown one.
 */
async function visibleIdentity(
  deps: EntitlementDependencies,
  principal: Principal,
  id: string,
  options: { includeDeleted?: boolean } = {},
): Promise<Identity> {
  const identity = await findIdentity(deps.db, requireUuid("identity_id", id, "identity"));
  if (
    identity === undefined ||
    !mayView(principal, identity) ||
    (identity.deletedAt !== undefined && options.includeDeleted !== true)
  ) {
    throw new IdentityNotFoundError(id);
  }
  return identity;
}

/** PERMISSION_DENIED unless the caller owns the identity's organization (or administers the platform). */
function requireOwnerOf(principal: Principal, identity: Identity, action: string): void {
  if (principal.administrator) return;
  requireOrgRole(principal, identity.orgId ?? "", "owner", action);
}

/** Like {@link requireOwnerOf}, but an identity may always manage its own API keys. */
function requireSelfOrOwner(principal: Principal, identity: Identity, action: string): void {
  if (principal.subject === identity.id) return;
  requireOwnerOf(principal, identity, action);
}

/** gRPC handlers for identities and API keys. */
export function createIdentityHandlers(deps: EntitlementDependencies): IdentityHandlers {
  return {
    createIdentity: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireUuid("org_id", request.orgId, "organization");
        requireOrgRole(principal, orgId, "owner", "create identities");
        const name = request.name.trim();
        if (!isValidIdentityName(name)) {
          throw new InvalidFieldError(
            "name",
            `identity name ${quoted(request.name)} is invalid: use 1 to 128 letters, digits, '.', '_', '-' and '@'`,
          );
        }
        const role = roleFromProto(request.role);
        if ((await findOrganization(deps.db, orgId)) === undefined) {
          throw new OrganizationNotFoundError("org_id", request.orgId);
        }
        const identity = await insertMember(deps.db, {
          id: randomUUID(),
          orgId,
          name,
          role,
          createdAt: deps.now(),
        });
        ctx.logger.info(
          { orgId, identityId: identity.id, role, by: principal.subject },
          "identity created",
        );
        return { identity: identityMessage(identity) };
      }),

    listIdentities: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireUuid("org_id", request.orgId, "organization");
        requireOrgRole(principal, orgId, "viewer", "list identities");
        if ((await findOrganization(deps.db, orgId)) === undefined) {
          throw new OrganizationNotFoundError("org_id", request.orgId);
        }
        return { identities: (await listMembers(deps.db, orgId)).map(identityMessage) };
      }),

    setIdentityRole: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const role = roleFromProto(request.role);
        const identity = await visibleIdentity(deps, principal, request.identityId);
        if (identity.administrator) throw new AdministratorHasNoRoleError(identity.id);
        requireOwnerOf(principal, identity, "change roles");
        const updated = await updateMemberRole(deps.db, identity.id, role);
        if (updated === undefined) throw new IdentityNotFoundError(request.identityId);
        ctx.logger.info(
          { identityId: identity.id, from: identity.role, to: role, by: principal.subject },
          "identity role changed",
        );
        return { identity: identityMessage(updated) };
      }),

    deleteIdentity: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const identity = await visibleIdentity(deps, principal, request.identityId, {
          includeDeleted: true,
        });
        requireOwnerOf(principal, identity, "delete identities");
        const at = deps.now();
        const deleted = await deps.db.transaction().execute(async (trx) => {
          const marked = await markIdentityDeleted(trx, identity.id, at);
          await revokeIdentityApiKeys(trx, identity.id, at);
          return marked;
        });
        if (deleted) {
          ctx.logger.info({ identityId: identity.id, by: principal.subject }, "identity deleted");
        }
        return { deleted };
      }),

    createApiKey: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const description = request.description.trim();
        if (description.length > MAX_API_KEY_DESCRIPTION_LENGTH) {
          throw new InvalidFieldError(
            "description",
            `description is ${description.length} characters long; the limit is ${MAX_API_KEY_DESCRIPTION_LENGTH}`,
          );
        }
        if (request.ttlDays > MAX_API_KEY_TTL_DAYS) {
          throw new InvalidFieldError(
            "ttl_days",
            `ttl_days ${request.ttlDays} is too long: at most ${MAX_API_KEY_TTL_DAYS} (0 means the key does not expire)`,
          );
        }
        const identity = await visibleIdentity(deps, principal, request.identityId);
        requireSelfOrOwner(principal, identity, "create API keys for another identity");
        const generated = generateApiKey();
        const createdAt = deps.now();
        const key = await insertApiKey(deps.db, {
          id: generated.id,
          identityId: identity.id,
          secretHash: generated.secretHash,
          description,
          createdAt,
          ...(request.ttlDays === 0
            ? {}
            : { expiresAt: new Date(createdAt.getTime() + request.ttlDays * DAY_MS) }),
        });
        if (key === undefined) throw new Error(`API key id "${generated.id}" collided`);
        ctx.logger.info(
          { identityId: identity.id, apiKeyId: key.id, by: principal.subject },
          "API key created",
        );
        return { apiKey: apiKeyMessage(key), secret: generated.credential };
      }),

    listApiKeys: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const identity = await visibleIdentity(deps, principal, request.identityId);
        requireSelfOrOwner(principal, identity, "list another identity's API keys");
        return { apiKeys: (await listApiKeys(deps.db, identity.id)).map(apiKeyMessage) };
      }),

    revokeApiKey: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        if (!isApiKeyId(request.apiKeyId)) {
          throw new InvalidFieldError(
            "api_key_id",
            `API key id ${quoted(request.apiKeyId)} is invalid: it is the 12 characters after "tlr_"`,
          );
        }
        const key = await findApiKey(deps.db, request.apiKeyId);
        const identity =
          key === undefined ? undefined : await findIdentity(deps.db, key.identityId);
        if (key === undefined || identity === undefined || !mayView(principal, identity)) {
          throw new ApiKeyNotFoundError(request.apiKeyId);
        }
        requireSelfOrOwner(principal, identity, "revoke another identity's API keys");
        const revoked = await revokeApiKey(deps.db, key.id, deps.now());
        if (revoked === undefined) throw new ApiKeyNotFoundError(request.apiKeyId);
        if (key.revokedAt === undefined) {
          ctx.logger.info({ apiKeyId: key.id, by: principal.subject }, "API key revoked");
        }
        return { apiKey: apiKeyMessage(revoked) };
      }),
  };
}
