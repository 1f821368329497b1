import { Code, TailorError } from "@tailor/grpc";
import type { ApiContext } from "./api-route.js";

/** An organization named in a REST path, resolved to its id and name. */
export interface OrganizationRef {
  readonly id: string;
  readonly name: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` has the shape of an id (a UUID) rather than a name. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Resolves an `{org}` path parameter (an organization id or name). The
 * caller's own organization is known from its credential; anything else is
 * asked of the entitlement service with the caller's token, which answers
 * NOT_FOUND for an organization the caller may not see: another tenant's
 * organization is indistinguishable from a missing one.
 */
export async function resolveOrganization(
  context: Pick<ApiContext, "deps" | "credential" | "call">,
  reference: string,
): Promise<OrganizationRef> {
  const principal = context.credential?.principal;
  if (
    principal?.orgId !== undefined &&
    (reference === principal.orgId || reference === principal.orgName)
  ) {
    return { id: principal.orgId, name: principal.orgName ?? reference };
  }
  const notFound = (cause?: unknown) =>
    new TailorError(Code.NOT_FOUND, `organization "${reference}" not found`, {
      reason: "organization_not_found",
      field: "org",
      cause,
    });
  try {
    const { organization } = await context.deps.entitlement.getOrganization(
      isUuid(reference) ? { id: reference.toLowerCase() } : { name: reference },
      context.call,
    );
    if (organization === undefined) throw notFound();
    return { id: organization.id, name: organization.name };
  } catch (error) {
    if (error instanceof TailorError && error.code === Code.NOT_FOUND) throw notFound(error);
    throw error;
  }
}

/** Resolves the `{org}` path parameter of a request. */
export function organizationOf(context: ApiContext): Promise<OrganizationRef> {
  return resolveOrganization(context, context.params.org ?? "");
}
