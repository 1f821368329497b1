import { randomUUID } from "node:crypto";
import type { Principal } from "@tailor/auth";
import { canAccessOrg, requireAdministrator, requireOrgRole } from "@tailor/auth";
import type { ServiceImpl } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { EntitlementDependencies } from "../entitlement-dependencies.js";
import { enqueueOrganizationCreated } from "../events/organization-events.js";
import { InvalidPageTokenError, OrganizationNotFoundError } from "../organizations/errors.js";
import type { Organization } from "../organizations/organization.js";
import { isValidOrganizationName } from "../organizations/organization.js";
import { isValidSourceImageName } from "../purchases/purchase.js";
import { InvalidFieldError } from "../requests/errors.js";
import { quoted, requireUuid } from "../requests/request-fields.js";
import {
  findOrganization,
  findOrganizationByName,
  insertOrganization,
  listOrganizations,
  updateCustomAssembly,
  updateOrganizationSettings,
} from "../store/organization-store.js";
import { organizationMessage } from "./proto-conversions.js";
import { withStatus } from "./to-status.js";

type EntitlementImpl = ServiceImpl<typeof entitlementV1.EntitlementService>;

/** Handlers for organizations, their custom assembly and their own settings. */
export type OrganizationHandlers = Pick<
  EntitlementImpl,
  | "createOrganization"
  | "getOrganization"
  | "listOrganizations"
  | "setCustomAssembly"
  | "setOrganizationSettings"
>;

/**
 * Page size of ListOrganizations when the request asks for none.
 * @default 50
 */
export const DEFAULT_ORGANIZATION_PAGE_SIZE = 50;

/**
 * Largest page ListOrganizations returns; bigger requests are capped.
 * @default 500
 */
export const MAX_ORGANIZATION_PAGE_SIZE = 500;

const MAX_DISPLAY_NAME_LENGTH = 200;

/**
 * Most source images one organization may customize: far more than a
 * catalog holds, few enough that one request cannot write (and log) a
 * request-sized list.
 * @default 1000
 */
export const MAX_CUSTOMIZABLE_SOURCE_IMAGES = 1000;

function pageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString("base64url");
}

function afterOf(token: string): string | undefined {
  if (token === "") return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    const after = (decoded as { after?: unknown } | null)?.after;
    if (typeof after === "string" && isValidOrganizationName(after)) return after;
  } catch {
    // Falls through to the error below: the token is not one of ours.
  }
  throw new InvalidPageTokenError(token);
}

/**
 * The organization a request names, as the caller may see it: another
 * tenant's organization is reported exactly like an unknown one.
 */
async function visibleOrganization(
  deps: EntitlementDependencies,
  principal: Principal,
  request: { id: string; name: string },
): Promise<Organization> {
  if (request.id !== "" && request.name !== "") {
    throw new InvalidFieldError("name", "give the organization's id or its name, not both");
  }
  if (request.id === "" && request.name === "") {
    throw new InvalidFieldError("id", "give the organization's id or its name");
  }
  const [field, value] = request.id !== "" ? ["id", request.id] : ["name", request.name];
  const organization =
    field === "id"
      ? await findOrganization(deps.db, requireUuid("id", value, "organization"))
      : await findOrganizationByName(deps.db, value);
  if (organization === undefined || !canAccessOrg(principal, organization.id)) {
    throw new OrganizationNotFoundError(field, value);
  }
  return organization;
}

/** gRPC handlers for organizations. */
export function createOrganizationHandlers(deps: EntitlementDependencies): OrganizationHandlers {
  return {
    createOrganization: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "create organizations");
        const name = request.name.trim();
        if (!isValidOrganizationName(name)) {
          throw new InvalidFieldError(
            "name",
            `organization name ${quoted(request.name)} is invalid: use 2 to 63 lowercase letters, digits and single dashes`,
          );
        }
        const displayName = request.displayName.trim() === "" ? name : request.displayName.trim();
        if (displayName.length > MAX_DISPLAY_NAME_LENGTH) {
          throw new InvalidFieldError(
            "display_name",
            `display name is ${displayName.length} characters long; the limit is ${MAX_DISPLAY_NAME_LENGTH}`,
          );
        }
        // The organization and its event commit together; the event is published
        // right after, or by the relay later if NATS refuses it now.
        const organization = await deps.db.transaction().execute(async (trx) => {
          const created = await insertOrganization(trx, {
            id: randomUUID(),
            name,
            displayName,
            createdAt: deps.now(),
          });
          await enqueueOrganizationCreated(trx, created);
          return created;
        });
        await deps.events.flushAfterCommit();
        ctx.logger.info(
          { orgId: organization.id, org: organization.name, by: principal.subject },
          "organization created",
        );
        return { organization: organizationMessage(organization) };
      }),

    getOrganization: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const organization = await visibleOrganization(deps, principal, request);
        return { organization: organizationMessage(organization) };
      }),

    listOrganizations: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        if (!principal.administrator) {
          // A member sees its own organization only, on a single page.
          const own =
            principal.orgId === undefined
              ? undefined
              : await findOrganization(deps.db, principal.orgId);
          return { organizations: own === undefined ? [] : [organizationMessage(own)], page: {} };
        }
        const requested = request.page?.size ?? 0;
        const size = Math.min(
          requested === 0 ? DEFAULT_ORGANIZATION_PAGE_SIZE : requested,
          MAX_ORGANIZATION_PAGE_SIZE,
        );
        const after = afterOf(request.page?.token ?? "");
        // One extra row tells whether another page follows.
        const rows = await listOrganizations(deps.db, {
          ...(after === undefined ? {} : { after }),
          limit: size + 1,
        });
        const page = rows.slice(0, size);
        const last = page.at(-1);
        return {
          organizations: page.map(organizationMessage),
          page: { nextToken: rows.length > size && last !== undefined ? pageToken(last.name) : "" },
        };
      }),

    setCustomAssembly: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        requireAdministrator(principal, "change an organization's custom assembly");
        const orgId = requireUuid("org_id", request.orgId, "organization");
        if (request.customizableSourceImages.length > MAX_CUSTOMIZABLE_SOURCE_IMAGES) {
          throw new InvalidFieldError(
            "customizable_source_images",
            `customizable_source_images lists ${request.customizableSourceImages.length} images; the limit is ${MAX_CUSTOMIZABLE_SOURCE_IMAGES}`,
          );
        }
        const requested = request.customizableSourceImages.map((image) => image.trim());
        requested.forEach((image, index) => {
          if (!isValidSourceImageName(image)) {
            throw new InvalidFieldError(
              `customizable_source_images[${index}]`,
              `source image name ${quoted(image)} is invalid: use 1 to 128 lowercase letters, digits, '.', '_' and '-'`,
            );
          }
        });
        const sourceImages = [...new Set(requested)];
        const organization = await deps.db
          .transaction()
          .execute((trx) =>
            updateCustomAssembly(trx, orgId, { enabled: request.enabled, sourceImages }),
          );
        if (organization === undefined)
          throw new OrganizationNotFoundError("org_id", request.orgId);
        ctx.logger.info(
          { orgId, enabled: request.enabled, sourceImages, by: principal.subject },
          "custom assembly set",
        );
        return { organization: organizationMessage(organization) };
      }),

    setOrganizationSettings: (request, ctx) =>
      withStatus(async () => {
        const principal = await deps.authenticate(ctx);
        const orgId = requireUuid("org_id", request.orgId, "organization");
        requireOrgRole(principal, orgId, "owner", "change the organization's settings");
        const organization = await updateOrganizationSettings(deps.db, orgId, {
          uniqueTags: request.uniqueTags,
        });
        if (organization === undefined)
          throw new OrganizationNotFoundError("org_id", request.orgId);
        ctx.logger.info(
          { orgId, uniqueTags: request.uniqueTags, by: principal.subject },
          "organization settings set",
        );
        return { organization: organizationMessage(organization) };
      }),
  };
}
