import { requireAdministrator, requireOrgRole } from "@tailor/auth";
import type { ServiceImpl } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { EntitlementDependencies } from "../entitlement-dependencies.js";
import { OrganizationNotFoundError } from "../organizations/errors.js";
import type { Organization } from "../organizations/organization.js";
import {
  isValidPackageName,
  isValidSourceImageName,
  MAX_GRANT_REASON_LENGTH,
} from "../purchases/purchase.js";
import { InvalidFieldError } from "../requests/errors.js";
import { quoted, requireUuid } from "../requests/request-fields.js";
import type { EntitlementDb } from "../store/entitlement-database.js";
import { findOrganization } from "../store/organization-store.js";
import {
  addPackageGrant,
  addPurchase,
  listEntitlements,
  removePackageGrant,
  removePurchase,
} from "../store/purchase-store.js";
import { organizationMessage, packageGrantMessage, purchaseMessage } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type EntitlementImpl = ServiceImpl<typeof entitlementV1.EntitlementService>;

/** Handlers for purchases, package grants and the entitlements they add up to. */
export type PurchaseHandlers = Pick<
  EntitlementImpl,
  "addPurchase" | "removePurchase" | "grantPackage" | "revokePackageGrant" | "getEntitlements"
>;

async function existingOrganization(db: EntitlementDb, orgId: string): Promise<Organization> {
  const organization = await findOrganization(db, requireUuid("org_id", orgId, "organization"));
  if (organization === undefined) throw new OrganizationNotFoundError("org_id", orgId);
  return organization;
}

function sourceImageOf(value: string): string {
  const name = value.trim();
  if (!isValidSourceImageName(name)) {
    throw new InvalidFieldError(
      "source_image",
      `source image name ${quoted(value)} is invalid: use 1 to 128 lowercase letters, digits, '.', '_' and '-'`,
    );
  }
  return name;
}

function packageNameOf(value: string): string {
  const name = value.trim();
  if (!isValidPackageName(name)) {
    throw new InvalidFieldError(
      "package_name",
      `package name ${quoted(value)} is invalid: use letters, digits, '+', '.', '_' and '-'`,
    );
  }
  return name;
}

/** gRPC handlers for what an organization bought and was granted. */
export function createPurchaseHandlers(deps: EntitlementDependencies): PurchaseHandlers {
  return {
    addPurchase: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "record purchases");
        const sourceImage = sourceImageOf(request.sourceImage);
        const organization = await existingOrganization(deps.db, request.orgId);
        const purchase = await addPurchase(deps.db, {
          orgId: organization.id,
          sourceImage,
          purchasedAt: deps.now(),
        });
        return { purchase: purchaseMessage(purchase) };
      }),

    removePurchase: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "remove purchases");
        const sourceImage = sourceImageOf(request.sourceImage);
        const organization = await existingOrganization(deps.db, request.orgId);
        return { removed: await removePurchase(deps.db, organization.id, sourceImage) };
      }),

    grantPackage: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "grant packages");
        const packageName = packageNameOf(request.packageName);
        const reason = request.reason.trim();
        if (reason.length > MAX_GRANT_REASON_LENGTH) {
          throw new InvalidFieldError(
            "reason",
            `reason is ${reason.length} characters long; the limit is ${MAX_GRANT_REASON_LENGTH}`,
          );
        }
        const organization = await existingOrganization(deps.db, request.orgId);
        const grant = await addPackageGrant(deps.db, {
          orgId: organization.id,
          packageName,
          reason,
          grantedAt: deps.now(),
        });
        return { grant: packageGrantMessage(grant) };
      }),

    revokePackageGrant: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "revoke package grants");
        const packageName = packageNameOf(request.packageName);
        const organization = await existingOrganization(deps.db, request.orgId);
        return { removed: await removePackageGrant(deps.db, organization.id, packageName) };
      }),

    getEntitlements: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireUuid("org_id", request.orgId, "organization");
        requireOrgRole(principal, orgId, "viewer", "read entitlements");
        const organization = await existingOrganization(deps.db, orgId);
        const entitlements = await listEntitlements(deps.db, organization.id);
        return {
          organization: organizationMessage(organization),
          purchases: entitlements.purchases.map(purchaseMessage),
          packageGrants: entitlements.packageGrants.map(packageGrantMessage),
        };
      }),
  };
}
