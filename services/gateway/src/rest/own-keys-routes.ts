// The caller's own API keys, whoever they are: members without knowing
// their organization's path, and platform administrators, who belong to no
// organization. The entitlement service lets every identity manage its own.
import { Code, TailorError } from "@tailor/grpc";
import type { ApiContext, ApiRoute } from "./api-route.js";
import { apiPath } from "./api-route.js";
import {
  API_KEY_SCHEMA,
  apiKeyJson,
  arrayOf,
  CREATED_API_KEY_SCHEMA,
  NEW_API_KEY_BODY,
  newApiKeyRequest,
  responseObject,
} from "./representations.js";
import { answered } from "./service-answer.js";

const TAGS = ["api-keys"];

/** The caller's identity id (the token's subject). */
function callerOf(context: ApiContext): string {
  const subject = context.credential?.principal.subject;
  if (subject === undefined) throw new Error("own-key routes need a credential");
  return subject;
}

/** REST routes of the caller's own API keys. */
export const ownKeyRoutes: readonly ApiRoute[] = [
  {
    method: "GET",
    path: "/api/v1/auth/api-keys",
    operationId: "listOwnApiKeys",
    summary: "List the caller's own API keys",
    description: "Without their secrets.",
    tags: TAGS,
    response: {
      description: "The caller's keys, newest first.",
      schema: responseObject(undefined, "The caller's API keys.", {
        apiKeys: arrayOf(API_KEY_SCHEMA),
      }),
    },
    async handler(context) {
      const { apiKeys } = await context.deps.entitlement.listApiKeys(
        { identityId: callerOf(context) },
        context.call,
      );
      return { apiKeys: apiKeys.map(apiKeyJson) };
    },
  },
  {
    method: "POST",
    path: "/api/v1/auth/api-keys",
    operationId: "createOwnApiKey",
    summary: "Create an API key for the caller",
    description:
      "The answer carries the key's secret; it is stored only as a hash and never shown again.",
    tags: TAGS,
    body: NEW_API_KEY_BODY,
    response: {
      status: 201,
      description: "The key and its secret.",
      schema: CREATED_API_KEY_SCHEMA,
    },
    async handler(context) {
      const created = await context.deps.entitlement.createApiKey(
        newApiKeyRequest(callerOf(context), context.body),
        context.call,
      );
      const apiKey = answered(created.apiKey, "the API key");
      context.reply.header("location", apiPath("auth", "api-keys", apiKey.id));
      return { apiKey: apiKeyJson(apiKey), secret: created.secret };
    },
  },
  {
    method: "DELETE",
    path: "/api/v1/auth/api-keys/{key}",
    operationId: "revokeOwnApiKey",
    summary: "Revoke one of the caller's API keys",
    description: "Tokens the key minted stay valid until they expire (they are short-lived).",
    tags: TAGS,
    params: { key: 'the key id (the 12 characters after "tlr_")' },
    response: { description: "The revoked key.", schema: API_KEY_SCHEMA },
    async handler(context) {
      const keyId = context.params.key ?? "";
      const { apiKeys } = await context.deps.entitlement.listApiKeys(
        { identityId: callerOf(context) },
        context.call,
      );
      if (!apiKeys.some((key) => key.id === keyId)) {
        throw new TailorError(Code.NOT_FOUND, `API key "${keyId}" is not one of yours`, {
          reason: "api_key_not_found",
          field: "key",
        });
      }
      const { apiKey } = await context.deps.entitlement.revokeApiKey(
        { apiKeyId: keyId },
        context.call,
      );
      return apiKeyJson(answered(apiKey, "the API key"));
    },
  },
];
