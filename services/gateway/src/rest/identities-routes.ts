// An organization's identities (people and robots with a role) and their API
// keys. `{identity}` is an id or a name, resolved within the organization of
// the path, so a path never reaches an identity of another organization.
import type { Role } from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { ApiContext, ApiRoute } from "./api-route.js";
import { apiPath } from "./api-route.js";
import type { OrganizationRef } from "./organization-ref.js";
import { organizationOf } from "./organization-ref.js";
import { ORG_PARAM } from "./organizations-routes.js";
import {
  API_KEY_SCHEMA,
  apiKeyJson,
  arrayOf,
  CREATED_API_KEY_SCHEMA,
  IDENTITY_SCHEMA,
  identityJson,
  NEW_API_KEY_BODY,
  newApiKeyRequest,
  ROLE_SCHEMA,
  requestObject,
  responseObject,
  roleEnumOf,
} from "./representations.js";
import { answered } from "./service-answer.js";

const IDENTITY_PARAM = "the identity's id or name";
const IDENTITY_TAGS = ["identities"];
const KEY_TAGS = ["api-keys"];

/** The organization of the path and the identity `{identity}` names in it. */
async function identityOf(
  context: ApiContext,
): Promise<{ org: OrganizationRef; identity: entitlementV1.Identity }> {
  const org = await organizationOf(context);
  const reference = context.params.identity ?? "";
  const { identities } = await context.deps.entitlement.listIdentities(
    { orgId: org.id },
    context.call,
  );
  const identity =
    identities.find((candidate) => candidate.id === reference.toLowerCase()) ??
    identities.find((candidate) => candidate.name === reference);
  if (identity === undefined) {
    throw new TailorError(
      Code.NOT_FOUND,
      `identity "${reference}" not found in organization "${org.name}"`,
      { reason: "identity_not_found", field: "identity" },
    );
  }
  return { org, identity };
}

/** REST routes of identities and API keys. */
export const identityRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/identities",
    operationId: "listIdentities",
    summary: "List the organization's identities",
    tags: IDENTITY_TAGS,
    params: { org: ORG_PARAM },
    response: {
      description: "The identities, by name.",
      schema: responseObject(undefined, "The organization's identities.", {
        identities: arrayOf(IDENTITY_SCHEMA),
      }),
    },
    async handler(context) {
      const org = await organizationOf(context);
      const { identities } = await context.deps.entitlement.listIdentities(
        { orgId: org.id },
        context.call,
      );
      return { identities: identities.map(identityJson) };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/identities",
    operationId: "createIdentity",
    summary: "Add an identity",
    description: "Owners of the organization and platform administrators.",
    tags: IDENTITY_TAGS,
    params: { org: ORG_PARAM },
    body: requestObject(
      "The new identity.",
      {
        name: {
          type: "string",
          minLength: 1,
          maxLength: 128,
          description: "unique in the organization: letters, digits, '.', '_', '-' and '@'",
        },
        role: ROLE_SCHEMA,
      },
      ["name", "role"],
    ),
    response: { status: 201, description: "The identity.", schema: IDENTITY_SCHEMA },
    async handler(context) {
      const org = await organizationOf(context);
      const { name, role } = context.body as { name: string; role: Role };
      const { identity } = await context.deps.entitlement.createIdentity(
        { orgId: org.id, name, role: roleEnumOf(role) },
        context.call,
      );
      const created = answered(identity, "the identity");
      context.reply.header(
        "location",
        apiPath("organizations", org.name, "identities", created.id),
      );
      return identityJson(created);
    },
  },
  {
    method: "PATCH",
    path: "/api/v1/organizations/{org}/identities/{identity}",
    operationId: "setIdentityRole",
    summary: "Change an identity's role",
    description: "Owners of the organization and platform administrators.",
    tags: IDENTITY_TAGS,
    params: { org: ORG_PARAM, identity: IDENTITY_PARAM },
    body: requestObject("The change.", { role: ROLE_SCHEMA }, ["role"]),
    response: { description: "The updated identity.", schema: IDENTITY_SCHEMA },
    async handler(context) {
      const { identity } = await identityOf(context);
      const { role } = context.body as { role: Role };
      const updated = await context.deps.entitlement.setIdentityRole(
        { identityId: identity.id, role: roleEnumOf(role) },
        context.call,
      );
      return identityJson(answered(updated.identity, "the identity"));
    },
  },
  {
    method: "DELETE",
    path: "/api/v1/organizations/{org}/identities/{identity}",
    operationId: "deleteIdentity",
    summary: "Remove an identity",
    description:
      "Also revokes its API keys (owners of the organization and platform administrators). An identity that is not in the organization, or was removed already, is 404.",
    tags: IDENTITY_TAGS,
    params: { org: ORG_PARAM, identity: IDENTITY_PARAM },
    response: {
      description: "Whether the identity was removed.",
      schema: responseObject(undefined, "Whether the identity was removed.", {
        deleted: { type: "boolean", description: "true: the identity was removed" },
      }),
    },
    async handler(context) {
      const { identity } = await identityOf(context);
      const { deleted } = await context.deps.entitlement.deleteIdentity(
        { identityId: identity.id },
        context.call,
      );
      return { deleted };
    },
  },
  {
    method: "GET",
    path: "/api/v1/organizations/{org}/identities/{identity}/api-keys",
    operationId: "listApiKeys",
    summary: "List an identity's API keys",
    description: "Without their secrets (the identity itself, owners and administrators).",
    tags: KEY_TAGS,
    params: { org: ORG_PARAM, identity: IDENTITY_PARAM },
    response: {
      description: "The keys, newest first.",
      schema: responseObject(undefined, "An identity's API keys.", {
        apiKeys: arrayOf(API_KEY_SCHEMA),
      }),
    },
    async handler(context) {
      const { identity } = await identityOf(context);
      const { apiKeys } = await context.deps.entitlement.listApiKeys(
        { identityId: identity.id },
        context.call,
      );
      return { apiKeys: apiKeys.map(apiKeyJson) };
    },
  },
  {
    method: "POST",
    path: "/api/v1/organizations/{org}/identities/{identity}/api-keys",
    operationId: "createApiKey",
    summary: "Create an API key",
    description:
      "The answer carries the key's secret; it is stored only as a hash and never shown again (the identity itself, owners and administrators).",
    tags: KEY_TAGS,
    params: { org: ORG_PARAM, identity: IDENTITY_PARAM },
    body: NEW_API_KEY_BODY,
    response: {
      status: 201,
      description: "The key and its secret.",
      schema: CREATED_API_KEY_SCHEMA,
    },
    async handler(context) {
      const { org, identity } = await identityOf(context);
      const created = await context.deps.entitlement.createApiKey(
        newApiKeyRequest(identity.id, context.body),
        context.call,
      );
      const apiKey = answered(created.apiKey, "the API key");
      context.reply.header(
        "location",
        apiPath("organizations", org.name, "identities", identity.id, "api-keys", apiKey.id),
      );
      return { apiKey: apiKeyJson(apiKey), secret: created.secret };
    },
  },
  {
    method: "DELETE",
    path: "/api/v1/organizations/{org}/identities/{identity}/api-keys/{key}",
    operationId: "revokeApiKey",
    summary: "Revoke an API key",
    description:
      "Tokens the key minted stay valid until they expire (they are short-lived). The identity itself, owners and administrators.",
    tags: KEY_TAGS,
    params: {
      org: ORG_PARAM,
      identity: IDENTITY_PARAM,
      key: 'the key id (the 12 characters after "tlr_")',
    },
    response: { description: "The revoked key.", schema: API_KEY_SCHEMA },
    async handler(context) {
      const { identity } = await identityOf(context);
      const keyId = context.params.key ?? "";
      const { apiKeys } = await context.deps.entitlement.listApiKeys(
        { identityId: identity.id },
        context.call,
      );
      if (!apiKeys.some((key) => key.id === keyId)) {
        throw new TailorError(
          Code.NOT_FOUND,
          `API key "${keyId}" not found for identity "${identity.name}"`,
          { reason: "api_key_not_found", field: "key" },
        );
      }
      const { apiKey } = await context.deps.entitlement.revokeApiKey(
        { apiKeyId: keyId },
        context.call,
      );
      return apiKeyJson(answered(apiKey, "the API key"));
    },
  },
];
