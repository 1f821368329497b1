import type { Principal } from "@tailor/auth";
import { bearerToken, canAccessOrg } from "@tailor/auth";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import { Code, InvalidFieldError, mapErrors, TailorError } from "@tailor/grpc";
import type { entitlementV1, gatewayV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import { serviceInfo } from "@tailor/service";
import type { ApkRepositoryKeys } from "../apk/repository-keys.js";

/** What the gateway's gRPC handlers use. */
export interface GatewayHandlerDependencies {
  /** Verifies the caller's `api` token; UNAUTHENTICATED when missing or invalid. */
  authenticate(ctx: Pick<HandlerContext, "metadata">): Promise<Principal>;
  readonly entitlement: Pick<
    ServiceClient<typeof entitlementV1.EntitlementService>,
    "getOrganization"
  >;
  readonly apkKeys: ApkRepositoryKeys;
}

/**
 * gRPC handlers of tailor.gateway.v1.GatewayService: identity, and the
 * public keys of organizations' APK repositories (for the builder's -dev
 * images). Callers of another organization get NOT_FOUND.
 */
export function createGatewayHandlers(
  deps: GatewayHandlerDependencies,
): ServiceImpl<typeof gatewayV1.GatewayService> {
  return {
    getServiceInfo: () => ({ info: serviceInfo("gateway") }),
    getApkRepositoryKeys: (request, ctx) =>
      mapErrors(
        async () => {
          const principal = await deps.authenticate(ctx);
          const orgId = request.orgId.trim();
          if (orgId === "") throw new InvalidFieldError("org_id", "org_id is required");
          const notFound = new TailorError(Code.NOT_FOUND, `organization ${orgId} not found`, {
            reason: "organization_not_found",
            field: "org_id",
          });
          if (!canAccessOrg(principal, orgId)) throw notFound;
          const token = bearerToken(ctx) ?? "";
          const { organization } = await deps.entitlement.getOrganization(
            { id: orgId },
            { metadata: { authorization: `Bearer ${token}` }, signal: ctx.signal },
          );
          if (organization === undefined) throw notFound;
          const keys = await deps.apkKeys.signingKeys({
            id: organization.id,
            name: organization.name,
          });
          return {
            orgName: organization.name,
            keys: keys.map((key) => ({
              name: key.name,
              publicKeyPem: key.publicKeyPem,
              current: key.retiredAt === undefined,
            })),
          };
        },
        (error) => error,
      ),
  };
}
