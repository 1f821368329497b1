import { Code, TailorError } from "@tailor/grpc";
import type { builderV1 } from "@tailor/proto";
import type { ApiContext } from "../api-route.js";
import type { OrganizationRef } from "../organization-ref.js";
import { isUuid } from "../organization-ref.js";

/** The answer for a build that does not exist in the organization (or that the caller may not see). */
export function buildNotFound(buildId: string, org: OrganizationRef): TailorError {
  return new TailorError(
    Code.NOT_FOUND,
    `build "${buildId}" not found in organization "${org.name}"`,
    { reason: "build_not_found", field: "build" },
  );
}

/**
 * The builder's record of build `buildId` of organization `org`, read with
 * the caller's credentials (so the builder checks their role). A malformed
 * id, a build of another organization (which only an administrator could
 * otherwise read) or an unknown one are all NOT_FOUND.
 */
export async function findOrganizationBuild(
  context: Pick<ApiContext, "deps" | "call">,
  org: OrganizationRef,
  buildId: string,
): Promise<builderV1.Build> {
  if (!isUuid(buildId)) throw buildNotFound(buildId, org);
  let build: builderV1.Build | undefined;
  try {
    ({ build } = await context.deps.builder.getBuild(
      { buildId: buildId.toLowerCase() },
      context.call,
    ));
  } catch (error) {
    if (error instanceof TailorError && error.code === Code.NOT_FOUND) {
      throw buildNotFound(buildId, org);
    }
    throw error;
  }
  if (build === undefined || build.orgId !== org.id) throw buildNotFound(buildId, org);
  return build;
}
