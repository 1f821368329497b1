// Organizations and what they may use: listing and reading for members,
// creation, custom assembly, purchases and package grants for platform
// administrators, settings for owners. The entitlement service enforces who
// may do what; these handlers translate.
import type { ApiRoute } from "./api-route.js";
import { apiPath } from "./api-route.js";
import { organizationOf } from "./organization-ref.js";
import {
  arrayOf,
  ENTITLEMENTS_SCHEMA,
  entitlementsJson,
  ORGANIZATION_SCHEMA,
  organizationJson,
  PACKAGE_GRANT_SCHEMA,
  PURCHASE_SCHEMA,
  packageGrantJson,
  purchaseJson,
  REMOVED_SCHEMA,
  requestObject,
  responseObject,
} from "./representations.js";
import { answered } from "./service-answer.js";

/** Description of the `{org}` path parameter. */
export const ORG_PARAM = "the organization's id or name";

const TAGS = ["organizations"];

const ORGANIZATION_LIST_SCHEMA = responseObject("OrganizationList", "One page of organizations.", {
  organizations: arrayOf(ORGANIZATION_SCHEMA),
  nextPageToken: {
    type: ["string", "null"],
    description: "pass as pageToken for the next page; null on the last page",
  },
});

const SOURCE_IMAGE_NAME = {
  type: "string",
  minLength: 1,
  maxLength: 128,
  description: "a source image name",
};

/** REST routes of organizations, their custom assembly, settings, purchases and grants. */
export const organizationRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/organizations",
    operationId: "listOrganizations",
    summary: "List organizations",
    description:
      "Every organization for a platform administrator (paged by name); the caller's own organization for a member.",
    tags: TAGS,
    query: {
      pageSize: {
        schema: { type: "integer", minimum: 1, maximum: 500 },
        description: "organizations per page (default 50)",
      },
      pageToken: { schema: { type: "string" }, description: "nextPageToken of the previous page" },
    },
    response: { description: "One page of organizations.", schema: ORGANIZATION_LIST_SCHEMA },
    async handler({ deps, query, call }) {
      const response = await deps.entitlement.listOrganizations(
        {
          page: {
            size: typeof query.pageSize === "number" ? query.pageSize : 0,
            token: typeof query.pageToken === "string" ? query.pageToken : "",
          },
        },
        call,
      );
      const next = response.page?.nextToken ?? "";
      return {
        organizations: response.organizations.map(organizationJson),
        nextPageToken: next === "" ? null : next,
      };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations",
    operationId: "createOrganization",
    summary: "Create an organization",
    description: "Platform administrators only.",
    tags: TAGS,
    body: requestObject(
      "The new organization.",
      {
        name: {
          type: "string",
          minLength: 2,
          maxLength: 63,
          description: "URL-safe unique name: lowercase letters, digits and single dashes",
        },
        displayName: { type: "string", maxLength: 200 },
      },
      ["name"],
    ),
    response: { status: 201, description: "The organization.", schema: ORGANIZATION_SCHEMA },
    async handler({ deps, body, call, reply }) {
      const { name, displayName } = body as { name: string; displayName?: string };
      const { organization } = await deps.entitlement.createOrganization(
        { name, displayName: displayName ?? "" },
        call,
      );
      const created = answered(organization, "the organization");
      reply.header("location", apiPath("organizations", created.id));
      return organizationJson(created);
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}",
    operationId: "getOrganization",
    summary: "Get an organization",
    tags: TAGS,
    params: { org: ORG_PARAM },
    response: { description: "The organization.", schema: ORGANIZATION_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { organization } = await context.deps.entitlement.getOrganization(
        { id: org.id },
        context.call,
      );
      return organizationJson(answered(organization, "the organization"));
    },
  },
  {
    method: "PUT",
    path: "/api/v1/organizations/{org}/custom-assembly",
    operationId: "setCustomAssembly",
    summary: "Enable or disable custom assembly",
    description:
      "Sets whether the organization may customize images and which source images it may customize (platform administrators only).",
    tags: TAGS,
    params: { org: ORG_PARAM },
    body: requestObject(
      "The custom assembly switch.",
      {
        enabled: { type: "boolean" },
        customizableSourceImages: {
          type: "array",
          items: SOURCE_IMAGE_NAME,
          maxItems: 1000,
          description: "replaces the list; left out, the current list stays",
        },
      },
      ["enabled"],
    ),
    response: { description: "The updated organization.", schema: ORGANIZATION_SCHEMA },
    async handler(context) {
      const { deps, call } = context;
      const body = context.body as { enabled: boolean; customizableSourceImages?: string[] };
      const org = await organizationOf(context);
      let images = body.customizableSourceImages;
      if (images === undefined) {
        const { organization } = await deps.entitlement.getOrganization({ id: org.id }, call);
        images = [...(organization?.customizableSourceImages ?? [])];
      }
      const { organization } = await deps.entitlement.setCustomAssembly(
        { orgId: org.id, enabled: body.enabled, customizableSourceImages: images },
        call,
      );
      return organizationJson(answered(organization, "the organization"));
    },
  },
  {
    method: "PUT",
    path: "/api/v1/organizations/{org}/settings",
    operationId: "setOrganizationSettings",
    summary: "Change the organization's settings",
    description: "Owners of the organization and platform administrators.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    body: requestObject(
      "The settings.",
      {
        uniqueTags: {
          type: "boolean",
          description: "whether builds also push a unique <version>-<YYYYMMDDHHMMSS> tag",
        },
      },
      ["uniqueTags"],
    ),
    response: { description: "The updated organization.", schema: ORGANIZATION_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { uniqueTags } = context.body as { uniqueTags: boolean };
      const { organization } = await context.deps.entitlement.setOrganizationSettings(
        { orgId: org.id, uniqueTags },
        context.call,
      );
      return organizationJson(answered(organization, "the organization"));
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/entitlements",
    operationId: "getEntitlements",
    summary: "Get what the organization bought and was granted",
    tags: TAGS,
    params: { org: ORG_PARAM },
    response: { description: "The organization's entitlements.", schema: ENTITLEMENTS_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      return entitlementsJson(
        await context.deps.entitlement.getEntitlements({ orgId: org.id }, context.call),
      );
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/purchases",
    operationId: "addPurchase",
    summary: "Record a source image purchase",
    description: "Platform administrators only. Adding an existing purchase changes nothing.",
    tags: TAGS,
    params: { org: ORG_PARAM },
    body: requestObject("The purchase.", { sourceImage: SOURCE_IMAGE_NAME }, ["sourceImage"]),
    response: { status: 201, description: "The purchase.", schema: PURCHASE_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { sourceImage } = context.body as { sourceImage: string };
      const { purchase } = await context.deps.entitlement.addPurchase(
        { orgId: org.id, sourceImage },
        context.call,
      );
      context.reply.header(
        "location",
        apiPath("organizations", org.name, "purchases", sourceImage),
      );
      return purchaseJson(answered(purchase, "the purchase"));
    },
  },
  {
    method: "DELETE",
    path: "/api/v1/organizations/{org}/purchases/{sourceImage}",
    operationId: "removePurchase",
    summary: "End a source image purchase",
    description: "Platform administrators only.",
    tags: TAGS,
    params: { org: ORG_PARAM, sourceImage: "the purchased source image" },
    response: { description: "Whether a purchase was removed.", schema: REMOVED_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { removed } = await context.deps.entitlement.removePurchase(
        { orgId: org.id, sourceImage: context.params.sourceImage ?? "" },
        context.call,
      );
      return { removed };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/package-grants",
    operationId: "grantPackage",
    summary: "Grant a package",
    description:
      "Lets the organization use one package by name beyond what its purchases bring (platform administrators only).",
    tags: TAGS,
    params: { org: ORG_PARAM },
    body: requestObject(
      "The grant.",
      {
        packageName: { type: "string", minLength: 1, maxLength: 256 },
        reason: { type: "string", maxLength: 500, description: "why it was granted" },
      },
      ["packageName"],
    ),
    response: { status: 201, description: "The grant.", schema: PACKAGE_GRANT_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { packageName, reason } = context.body as { packageName: string; reason?: string };
      const { grant } = await context.deps.entitlement.grantPackage(
        { orgId: org.id, packageName, reason: reason ?? "" },
        context.call,
      );
      context.reply.header(
        "location",
        apiPath("organizations", org.name, "package-grants", packageName),
      );
      return packageGrantJson(answered(grant, "the grant"));
    },
  },
  {
    method: "DELETE",
    path: "/api/v1/organizations/{org}/package-grants/{packageName}",
    operationId: "revokePackageGrant",
    summary: "Revoke a package grant",
    description: "Platform administrators only.",
    tags: TAGS,
    params: { org: ORG_PARAM, packageName: "the granted package name" },
    response: { description: "Whether a grant was removed.", schema: REMOVED_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { removed } = await context.deps.entitlement.revokePackageGrant(
        { orgId: org.id, packageName: context.params.packageName ?? "" },
        context.call,
      );
      return { removed };
    },
  },
];
