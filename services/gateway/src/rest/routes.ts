import type { FastifyInstance } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { INTERNAL_ERROR_MESSAGE, sendApiError } from "../http/errors.js";
import type { ApiRoute } from "./api-route.js";
import { registerApiRoutes } from "./api-route.js";
import { apkKeyRoutes } from "./apk-keys-routes.js";
import { authRoutes } from "./auth-routes.js";
import { buildRoutes } from "./build-routes.js";
import { customizeRoutes } from "./customize-routes.js";
import { identityRoutes } from "./identities-routes.js";
import { imageRoutes } from "./images-routes.js";
import { buildOpenApiDocument } from "./openapi.js";
import { organizationRoutes } from "./organizations-routes.js";
import { ownKeyRoutes } from "./own-keys-routes.js";
import { createRequestValidatorCompiler } from "./request-validator.js";
import { adaptRoute } from "./route-adapters.js";

/** Where the OpenAPI document is served (without credentials). */
export const OPENAPI_PATH = "/api/openapi.json";

/** Every REST operation under /api/v1, in the order of the OpenAPI document. */
export const apiV1Routes: readonly ApiRoute[] = [
  ...authRoutes,
  ...ownKeyRoutes,
  ...organizationRoutes,
  ...identityRoutes,
  ...imageRoutes,
  ...customizeRoutes,
  ...buildRoutes,
  ...apkKeyRoutes,
];

/** GET /api/openapi.json: the document of every route, itself included. */
const openApiRoute: ApiRoute = {
  method: "GET",
  path: OPENAPI_PATH,
  operationId: "getOpenApiDocument",
  summary: "This API's OpenAPI 3.1 document",
  tags: ["meta"],
  auth: "none",
  response: {
    description: "The OpenAPI document.",
    schema: { type: "object", description: "an OpenAPI 3.1 document" },
  },
  async handler({ deps, request }) {
    return buildOpenApiDocument(restRoutes, { serverUrl: deps.publicUrl(request) });
  },
};

/** Every route registerRestApi registers: the /api/v1 operations and the document. */
export const restRoutes: readonly ApiRoute[] = [...apiV1Routes, openApiRoute];

/** True when a request body may be left out: its schema requires no key. */
function bodyIsOptional(schema: unknown): boolean {
  const required = (schema as { required?: unknown } | undefined)?.required;
  return schema !== undefined && (!Array.isArray(required) || required.length === 0);
}

/** Fastify's status code of a request it failed itself (bad JSON, too large, …). */
function statusOf(error: unknown): number {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}

const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/**
 * Registers the REST API under /api/v1, its OpenAPI document at
 * /api/openapi.json, and JSON 404 answers for anything else under /api.
 */
export function registerRestApi(app: FastifyInstance, deps: GatewayDependencies): void {
  app.register(async (api) => {
    // Bodies are validated as sent (no type coercion); query strings are coerced.
    api.setValidatorCompiler(createRequestValidatorCompiler());
    // An empty JSON body (a client that always sends `content-type:
    // application/json`) is no body; fastify's parser would refuse it.
    const parseJson = api.getDefaultJsonParser("error", "error");
    api.removeContentTypeParser("application/json");
    api.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      const text = String(body);
      if (text.trim() === "") done(null, undefined);
      else parseJson(request, text, done);
    });
    // A POST whose body is all optional may come without one: it means `{}`.
    api.addHook("preValidation", async (request) => {
      if (request.body === undefined && bodyIsOptional(request.routeOptions.schema?.body)) {
        request.body = {};
      }
    });
    // Failures before a handler runs (malformed JSON, a body too large) in the REST error format.
    api.setErrorHandler((error, request, reply) => {
      const status = statusOf(error);
      if (status >= 500) {
        request.log.error({ err: error }, "request failed");
        return sendApiError(request, reply, 500, "INTERNAL", INTERNAL_ERROR_MESSAGE);
      }
      const message = error instanceof Error ? error.message : String(error);
      return sendApiError(
        request,
        reply,
        status,
        CLIENT_ERROR_CODES[status] ?? "INVALID_ARGUMENT",
        message,
      );
    });
    registerApiRoutes(api, deps, restRoutes.map(adaptRoute));
  });
  app.register(
    async (api) => {
      api.setNotFoundHandler((request, reply) => {
        const path = (request.url.split("?", 1)[0] ?? "").slice(0, 256);
        return sendApiError(
          request,
          reply,
          404,
          "NOT_FOUND",
          `no API operation ${request.method} ${path}; see ${OPENAPI_PATH}`,
        );
      });
    },
    { prefix: "/api" },
  );
}
