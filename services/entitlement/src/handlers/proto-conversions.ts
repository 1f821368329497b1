import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Audience, Principal, Role } from "@tailor/auth";
import { TOKEN_ALGORITHM } from "@tailor/auth";
import { entitlementV1 } from "@tailor/proto";
import type { ApiKey } from "../identities/api-key.js";
import type { Identity } from "../identities/identity.js";
import type { Organization } from "../organizations/organization.js";
import type { PackageGrant, Purchase } from "../purchases/purchase.js";
import { InvalidFieldError } from "../requests/errors.js";
import type { StoredSigningKey } from "../tokens/stored-signing-key.js";

const ROLE_TO_PROTO: Record<Role, entitlementV1.Role> = {
  viewer: entitlementV1.Role.VIEWER,
  editor: entitlementV1.Role.EDITOR,
  owner: entitlementV1.Role.OWNER,
};

const AUDIENCE_TO_PROTO: Record<Audience, entitlementV1.Audience> = {
  api: entitlementV1.Audience.API,
  registry: entitlementV1.Audience.REGISTRY,
  apk: entitlementV1.Audience.APK,
};

/** The role a request names; INVALID_ARGUMENT on `field` when unspecified or unknown. */
export function roleFromProto(role: entitlementV1.Role, field = "role"): Role {
  const found = (Object.keys(ROLE_TO_PROTO) as Role[]).find((r) => ROLE_TO_PROTO[r] === role);
  if (found === undefined) {
    throw new InvalidFieldError(field, `${field} is required: one of viewer, editor, owner`);
  }
  return found;
}

/** The audience a request names; INVALID_ARGUMENT on `field` when unspecified or unknown. */
export function audienceFromProto(audience: entitlementV1.Audience, field = "audience"): Audience {
  const found = (Object.keys(AUDIENCE_TO_PROTO) as Audience[]).find(
    (a) => AUDIENCE_TO_PROTO[a] === audience,
  );
  if (found === undefined) {
    throw new InvalidFieldError(field, `${field} is required: one of api, registry, apk`);
  }
  return found;
}

/** Organization → proto message. */
export function organizationMessage(organization: Organization) {
  return {
    id: organization.id,
    name: organization.name,
    displayName: organization.displayName,
    createdAt: timestampFromDate(organization.createdAt),
    customAssemblyEnabled: organization.customAssemblyEnabled,
    customizableSourceImages: [...organization.customizableSourceImages],
    uniqueTags: organization.uniqueTags,
  };
}

/** Purchase → proto message. */
export function purchaseMessage(purchase: Purchase) {
  return {
    sourceImage: purchase.sourceImage,
    purchasedAt: timestampFromDate(purchase.purchasedAt),
  };
}

/** PackageGrant → proto message. */
export function packageGrantMessage(grant: PackageGrant) {
  return {
    packageName: grant.packageName,
    reason: grant.reason,
    grantedAt: timestampFromDate(grant.grantedAt),
  };
}

/** Identity → proto message. */
export function identityMessage(identity: Identity) {
  return {
    id: identity.id,
    orgId: identity.orgId ?? "",
    name: identity.name,
    role:
      identity.role === undefined ? entitlementV1.Role.UNSPECIFIED : ROLE_TO_PROTO[identity.role],
    administrator: identity.administrator,
    createdAt: timestampFromDate(identity.createdAt),
  };
}

/** ApiKey → proto message (there is no secret to leak: the domain type has none). */
export function apiKeyMessage(key: ApiKey) {
  return {
    id: key.id,
    identityId: key.identityId,
    description: key.description,
    createdAt: timestampFromDate(key.createdAt),
    ...(key.expiresAt === undefined ? {} : { expiresAt: timestampFromDate(key.expiresAt) }),
    ...(key.revokedAt === undefined ? {} : { revokedAt: timestampFromDate(key.revokedAt) }),
    ...(key.lastUsedAt === undefined ? {} : { lastUsedAt: timestampFromDate(key.lastUsedAt) }),
  };
}

/** A verified or freshly signed token's principal → TokenClaims. */
export function tokenClaimsMessage(principal: Principal) {
  return {
    subject: principal.subject,
    subjectName: principal.subjectName,
    audience: AUDIENCE_TO_PROTO[principal.audience],
    orgId: principal.orgId ?? "",
    orgName: principal.orgName ?? "",
    role:
      principal.role === undefined ? entitlementV1.Role.UNSPECIFIED : ROLE_TO_PROTO[principal.role],
    administrator: principal.administrator,
    issuedAt: timestampFromDate(principal.issuedAt),
    expiresAt: timestampFromDate(principal.expiresAt),
    tokenId: principal.tokenId,
    keyId: principal.keyId,
    scopes: [...(principal.scopes ?? [])],
  };
}

/** A signing key's public half → TokenKey. */
export function tokenKeyMessage(key: StoredSigningKey) {
  return {
    id: key.id,
    algorithm: TOKEN_ALGORITHM,
    publicKeyPem: key.publicKeyPem,
    createdAt: timestampFromDate(key.createdAt),
    ...(key.retiredAt === undefined ? {} : { retiredAt: timestampFromDate(key.retiredAt) }),
  };
}
