import type { CallOptions } from "@tailor/grpc";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ResolvedCredential } from "../auth/credentials.js";
import { authenticateRequest } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { sendApiError, sendCallFailure } from "../http/errors.js";

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A query parameter of a REST route. */
export interface QueryParameter {
  readonly schema: JsonSchema;
  readonly description: string;
  readonly required?: boolean;
}

/** What a REST handler receives. */
export interface ApiContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly deps: GatewayDependencies;
  /** Path parameters by name (`{org}` → `params.org`), URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Query parameters (already validated against the route's schemas). */
  readonly query: Readonly<Record<string, unknown>>;
  /** The JSON body (already validated against the route's schema), or undefined. */
  readonly body: unknown;
  /** The caller; undefined only on routes with `auth: "none"`. */
  readonly credential: ResolvedCredential | undefined;
  /** Call options of a gRPC call on behalf of the caller: their `api` token, the request id, cancellation when the client goes away. */
  readonly call: CallOptions;
}

/**
 * One REST operation: what the route table registers with fastify and what
 * the OpenAPI document describes, from the same definition so they never
 * disagree.
 */
export interface ApiRoute {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI-style path, e.g. `/api/v1/organizations/{org}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** OpenAPI tags (sections of the document). */
  readonly tags: readonly string[];
  /** `none`: the route answers without credentials. @default "required" */
  readonly auth?: "required" | "none";
  /** Descriptions of the path parameters (every `{name}` of `path` must have one). */
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, QueryParameter>>;
  /** Schema of the JSON request body. */
  readonly body?: JsonSchema;
  readonly response: {
    /** @default 200 */
    readonly status?: number;
    readonly description: string;
    /** Schema of the JSON answer; omit for an empty answer (e.g. 204). */
    readonly schema?: JsonSchema;
    /** Non-JSON answers, e.g. `text/event-stream`. @default application/json */
    readonly contentType?: string;
  };
  /**
   * Answers the operation gives besides its success and the errors every
   * operation may give, by HTTP status, with what they mean (documented
   * only; error statuses carry the REST error body).
   */
  readonly otherResponses?: Readonly<Record<number, string>>;
  /**
   * Does the work. The returned value is sent as JSON with the response
   * status; return `undefined` after writing to `reply` yourself (streams).
   * Thrown TailorErrors from service calls become REST errors.
   */
  handler(context: ApiContext): Promise<unknown>;
}

/** Thrown by handlers for an answer the gateway itself gives (e.g. 400 naming the field). */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Machine-readable reason and extra facts of the REST error body. */
    readonly extra: {
      readonly reason?: string;
      readonly details?: Readonly<Record<string, string>>;
    } = {},
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

/**
 * The /api/v1 path of a resource from its segments, each URL-encoded, e.g.
 * `apiPath("organizations", "acme")` (the `Location` of a 201 answer).
 */
export function apiPath(...segments: readonly string[]): string {
  return `/api/v1/${segments.map((segment) => encodeURIComponent(segment)).join("/")}`;
}

/** `/api/v1/organizations/{org}` → `/api/v1/organizations/:org` (fastify's syntax). */
export function fastifyPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
}

function querySchema(route: ApiRoute): JsonSchema | undefined {
  if (route.query === undefined) return undefined;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, parameter] of Object.entries(route.query)) {
    properties[name] = parameter.schema;
    if (parameter.required === true) required.push(name);
  }
  return { type: "object", properties, ...(required.length > 0 ? { required } : {}) };
}

/** Credentials the onRequest hook resolved, per request (read by the handler). */
const requestCredentials = new WeakMap<FastifyRequest, ResolvedCredential>();

/**
 * Authenticates a request before its body is read: an anonymous or wrongly
 * authenticated client gets 401 (429 when rate-limited) without the gateway
 * parsing or validating what it sent, and learns nothing from validation
 * errors. Returns the reply when it answered, undefined when the request may
 * go on (its credential then waits in {@link requestCredentials}).
 */
async function authenticateApiRequest(
  deps: GatewayDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  let outcome: Awaited<ReturnType<typeof authenticateRequest>>;
  try {
    outcome = await authenticateRequest(deps.auth, request, "api", ["bearer"]);
  } catch (error) {
    // The entitlement service could not check the credential (unavailable, …).
    return sendCallFailure(request, reply, error);
  }
  if (outcome.ok) {
    requestCredentials.set(request, outcome.credential);
    return undefined;
  }
  if (outcome.kind === "limited") {
    reply.header("retry-after", String(outcome.retryAfterSeconds));
    return sendApiError(request, reply, 429, "RATE_LIMITED", outcome.message);
  }
  reply.header("www-authenticate", 'Bearer realm="tailor"');
  return sendApiError(request, reply, 401, "UNAUTHENTICATED", outcome.message);
}

/** The REST error answer of a request that failed schema validation, naming the field. */
function sendValidationError(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = request.validationError;
  const first = error?.validation?.[0];
  const where = error?.validationContext === "querystring" ? "query" : "body";
  const path = (first?.instancePath ?? "")
    .replace(/^\//, "")
    .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
    .replace(/\//g, ".");
  const missing =
    first?.keyword === "required"
      ? String((first.params as { missingProperty?: string }).missingProperty ?? "")
      : "";
  const field = [path, missing].filter((part) => part !== "").join(".");
  return sendApiError(
    request,
    reply,
    400,
    "INVALID_ARGUMENT",
    `${where}${field === "" ? "" : ` field "${field}"`} ${first?.message ?? "is not valid"}`,
    field === "" ? {} : { field },
  );
}

/**
 * Registers REST routes: bearer authentication for the `api` audience (API
 * key or token; failures counted and rate-limited) before the body is read,
 * body and query validation with errors that name the field, cancellation
 * of the handler's service calls when the client goes away, and gRPC
 * failures answered as REST errors with sensible HTTP statuses.
 */
export function registerApiRoutes(
  app: FastifyInstance,
  deps: GatewayDependencies,
  routes: readonly ApiRoute[],
): void {
  for (const route of routes) {
    const schema: Record<string, JsonSchema> = {};
    const query = querySchema(route);
    if (query !== undefined) schema.querystring = query;
    if (route.body !== undefined) schema.body = route.body;
    const authenticated = route.auth !== "none";
    app.route({
      method: route.method,
      url: fastifyPath(route.path),
      schema,
      // Validation failures answer in the REST error format, naming the field.
      attachValidation: true,
      ...(authenticated
        ? {
            onRequest: async (request: FastifyRequest, reply: FastifyReply) =>
              authenticateApiRequest(deps, request, reply),
          }
        : {}),
      async handler(request, reply) {
        const credential = authenticated ? requestCredentials.get(request) : undefined;
        if (authenticated && credential === undefined) {
          throw new Error(`${route.operationId}: no credential was resolved for the request`);
        }
        if (request.validationError !== undefined) return sendValidationError(request, reply);
        // The response's close before it finished means the client went away
        // (the request's own close only says its body was read).
        const abort = new AbortController();
        const onClose = () => {
          if (!reply.raw.writableFinished) abort.abort();
        };
        if (reply.raw.destroyed) abort.abort();
        else reply.raw.once("close", onClose);
        const call: CallOptions = {
          metadata:
            credential === undefined
              ? { "x-request-id": String(request.id) }
              : deps.callerMetadata(request, credential.token),
          signal: abort.signal,
        };
        try {
          const result = await route.handler({
            request,
            reply,
            deps,
            params: request.params as Record<string, string>,
            query: (request.query ?? {}) as Record<string, unknown>,
            body: request.body,
            credential,
            call,
          });
          if (reply.sent || result === undefined) return reply;
          return reply.code(route.response.status ?? 200).send(result);
        } catch (error) {
          if (reply.sent) {
            request.log.warn({ err: error }, "request failed after its answer started");
            return reply;
          }
          if (error instanceof ApiRequestError) {
            return sendApiError(request, reply, error.status, error.code, error.message, {
              ...(error.field === undefined ? {} : { field: error.field }),
              ...(error.extra.reason === undefined ? {} : { reason: error.extra.reason }),
              ...(error.extra.details === undefined ? {} : { details: { ...error.extra.details } }),
            });
          }
          return sendCallFailure(request, reply, error);
        } finally {
          reply.raw.off("close", onClose);
        }
      },
    });
  }
}
