import type { Principal } from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyRequest } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import type { ApkOrganization } from "./repository-key.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How long an administrator's lookup of an organization by id or name is reused. */
const LOOKUP_TTL_MS = 60_000;
const MAX_LOOKUPS = 1000;

/** Finds the organization a `/apk/<org>/…` path names, as far as the caller may see it. */
export interface OrganizationLookup {
  /**
   * The organization `segment` (its id or its name) names when `principal`
   * may read its repository: a member of that organization or an
   * administrator. Undefined otherwise, and for organizations that do not
   * exist: the caller cannot tell the two apart.
   */
  resolve(
    request: FastifyRequest,
    principal: Principal,
    segment: string,
  ): Promise<ApkOrganization | undefined>;
}

/**
 * Members are matched against their token's organization without a call;
 * administrators' lookups go to the entitlement service as the gateway's
 * service identity and are remembered for a minute.
 */
export function createOrganizationLookup(
  deps: Pick<GatewayDependencies, "entitlement" | "serviceMetadata" | "now">,
): OrganizationLookup {
  const cache = new Map<string, { at: number; org: Promise<ApkOrganization | undefined> }>();

  async function lookUp(
    request: FastifyRequest,
    segment: string,
  ): Promise<ApkOrganization | undefined> {
    try {
      const { organization } = await deps.entitlement.getOrganization(
        UUID.test(segment) ? { id: segment } : { name: segment },
        { metadata: await deps.serviceMetadata(request) },
      );
      return organization === undefined
        ? undefined
        : { id: organization.id, name: organization.name };
    } catch (error) {
      if (
        error instanceof TailorError &&
        (error.code === Code.NOT_FOUND || error.code === Code.INVALID_ARGUMENT)
      ) {
        return undefined;
      }
      throw error;
    }
  }

  function cachedLookUp(request: FastifyRequest, segment: string) {
    const now = deps.now().getTime();
    const known = cache.get(segment);
    if (known !== undefined && now - known.at < LOOKUP_TTL_MS) return known.org;
    const org = lookUp(request, segment);
    const entry = { at: now, org };
    cache.delete(segment);
    cache.set(segment, entry);
    if (cache.size > MAX_LOOKUPS) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    org.catch(() => {
      if (cache.get(segment) === entry) cache.delete(segment);
    });
    return org;
  }

  return {
    async resolve(request, principal, segment) {
      if (segment === "") return undefined;
      if (principal.administrator) return cachedLookUp(request, segment);
      const orgId = principal.orgId;
      if (orgId === undefined) return undefined;
      if (segment !== orgId && segment !== principal.orgName) return undefined;
      if (principal.orgName !== undefined) return { id: orgId, name: principal.orgName };
      // A token without the organization's name: ask, and still insist on the caller's own org.
      const org = await cachedLookUp(request, orgId);
      return org?.id === orgId ? org : undefined;
    },
  };
}
