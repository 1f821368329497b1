// The OpenAPI 3.1 document of the REST API, generated from the same route
// table fastify registers, so the two cannot disagree. Schemas carrying a
// `title` become named components referenced with `$ref`.
import { TAILOR_VERSION } from "@tailor/service";
import type { ApiRoute, JsonSchema } from "./api-route.js";

/** An OpenAPI document (plain JSON). */
export type OpenApiDocument = Readonly<Record<string, unknown>>;

/** Options of {@link buildOpenApiDocument}. */
export interface OpenApiDocumentOptions {
  /** Base URL clients reach the gateway at, e.g. `https://tailor.example.com`; no `servers` when unset. */
  readonly serverUrl?: string;
  /** Version of the API the document describes. @default TAILOR_VERSION */
  readonly version?: string;
}

/** Schema of every REST error body (src/http/errors.ts ApiErrorBody). */
export const ERROR_SCHEMA: JsonSchema = {
  title: "Error",
  description: "Every error answer: a stable code, a message naming the field or package.",
  type: "object",
  required: ["error", "requestId"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: {
          type: "string",
          description:
            "stable upper-case code: the gRPC status name (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, …) or RATE_LIMITED",
        },
        message: { type: "string" },
        field: {
          type: "string",
          description: 'the request field the error is about, e.g. "overlay.packages[2]"',
        },
        reason: {
          type: "string",
          description: 'machine-readable reason, e.g. "not_entitled"',
        },
        details: {
          type: "object",
          additionalProperties: { type: "string" },
          description: "extra facts (package, arch, …)",
        },
      },
    },
    requestId: { type: "string", description: "identifies the request in the gateway's logs" },
  },
};

const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  auth: "Tokens for the registry and APK repositories, and who the caller is.",
  organizations: "Organizations, their custom assembly, settings, purchases and package grants.",
  identities: "People and robots acting for an organization, with a role.",
  "api-keys": "API keys of identities; a key's secret is shown once.",
  "source-images": "Base image definitions organizations customize.",
  "custom-images": "Organizations' customizations of source images, kept as revisions.",
  customize: "What an organization may add, what a change would do, and applying it.",
  builds: "Builds of custom images, their logs, versions and tag history.",
  "apk-repository":
    "The organization's private APK repository: its signing keys (listed in its JWKS) and their rotation.",
  meta: "This document.",
};

/** Keys of a JSON Schema whose values are schemas, maps of schemas or lists of schemas. */
const SUBSCHEMA = ["additionalProperties", "items", "not", "if", "then", "else", "contains"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];

/** Collects titled schemas as components and replaces them with references. */
class SchemaComponents {
  readonly schemas = new Map<string, { readonly json: string; readonly schema: JsonSchema }>();

  /** `schema` with every titled schema in it (itself included) replaced by a `$ref`. */
  reference(schema: JsonSchema): JsonSchema {
    const inner = this.walk(schema);
    const title = schema.title;
    if (typeof title !== "string") return inner;
    if (!/^[A-Za-z0-9._-]+$/.test(title)) {
      throw new Error(`schema title "${title}" cannot name a component`);
    }
    const json = JSON.stringify(inner);
    const known = this.schemas.get(title);
    if (known === undefined) this.schemas.set(title, { json, schema: inner });
    else if (known.json !== json) {
      throw new Error(`two different schemas are titled "${title}"; give one another title`);
    }
    return { $ref: `#/components/schemas/${title}` };
  }

  private walk(schema: JsonSchema): JsonSchema {
    const copy: Record<string, unknown> = { ...schema };
    for (const key of SUBSCHEMA) {
      const value = copy[key];
      if (isSchema(value)) copy[key] = this.reference(value);
    }
    for (const key of SUBSCHEMA_MAPS) {
      const value = copy[key];
      if (isSchema(value)) {
        copy[key] = Object.fromEntries(
          Object.entries(value).map(([name, sub]) => [
            name,
            isSchema(sub) ? this.reference(sub) : sub,
          ]),
        );
      }
    }
    for (const key of SUBSCHEMA_LISTS) {
      const value = copy[key];
      if (Array.isArray(value)) {
        copy[key] = value.map((sub: unknown) => (isSchema(sub) ? this.reference(sub) : sub));
      }
    }
    return copy;
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ERROR_CONTENT = {
  "application/json": { schema: { $ref: "#/components/schemas/Error" } },
};

const ERROR_RESPONSES = {
  BadRequest: {
    description: "The request is not valid; `error.field` names the field.",
    content: ERROR_CONTENT,
  },
  Unauthenticated: {
    description: "No credentials, or not valid ones.",
    headers: {
      "WWW-Authenticate": {
        description: 'Bearer realm="tailor"',
        schema: { type: "string" },
      },
    },
    content: ERROR_CONTENT,
  },
  Forbidden: {
    description: "The caller's role may not do this; the message names the role needed.",
    content: ERROR_CONTENT,
  },
  NotFound: {
    description: "Unknown, or belongs to another organization.",
    content: ERROR_CONTENT,
  },
  Conflict: {
    description:
      "The request conflicts with the current state: it exists already, it changed since it was read, or it is not allowed in this state; `error.reason` says which.",
    content: ERROR_CONTENT,
  },
  PayloadTooLarge: {
    description: "The request body is larger than the gateway accepts (4 MiB).",
    content: ERROR_CONTENT,
  },
  UnsupportedMediaType: {
    description: "The request body is not `application/json`.",
    content: ERROR_CONTENT,
  },
  Unavailable: {
    description: "A service behind the gateway is unavailable; try again shortly.",
    content: ERROR_CONTENT,
  },
  RateLimited: {
    description: "Too many failed authentications from this credential or address.",
    headers: {
      "Retry-After": { description: "seconds to wait", schema: { type: "integer" } },
    },
    content: ERROR_CONTENT,
  },
  Error: { description: "Any other failure.", content: ERROR_CONTENT },
};

function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] ?? "");
}

function operationOf(route: ApiRoute, components: SchemaComponents): Record<string, unknown> {
  const names = pathParameterNames(route.path);
  for (const name of names) {
    if (route.params?.[name] === undefined) {
      throw new Error(`${route.operationId}: path parameter {${name}} has no description`);
    }
  }
  for (const name of Object.keys(route.params ?? {})) {
    if (!names.includes(name)) {
      throw new Error(`${route.operationId}: parameter "${name}" is not in ${route.path}`);
    }
  }
  const parameters = [
    ...names.map((name) => ({
      name,
      in: "path",
      required: true,
      description: route.params?.[name],
      schema: { type: "string" },
    })),
    ...Object.entries(route.query ?? {}).map(([name, parameter]) => ({
      name,
      in: "query",
      required: parameter.required === true,
      description: parameter.description,
      schema: components.reference(parameter.schema),
    })),
  ];
  const status = String(route.response.status ?? 200);
  const contentType = route.response.contentType ?? "application/json";
  const success: Record<string, unknown> = { description: route.response.description };
  if (status === "201" || status === "202") {
    success.headers = {
      Location: {
        description:
          status === "201" ? "path of what was created" : "path of the work that was started",
        schema: { type: "string" },
      },
    };
  }
  if (route.response.schema !== undefined) {
    success.content = { [contentType]: { schema: components.reference(route.response.schema) } };
  } else if (route.response.contentType !== undefined) {
    success.content = { [contentType]: { schema: { type: "string" } } };
  }
  const authenticated = route.auth !== "none";
  const ref = (name: keyof typeof ERROR_RESPONSES) => ({
    $ref: `#/components/responses/${name}`,
  });
  const responses: Record<string, unknown> = { [status]: success };
  for (const [other, description] of Object.entries(route.otherResponses ?? {})) {
    responses[other] =
      Number(other) >= 400 ? { description, content: ERROR_CONTENT } : { description };
  }
  if (route.body !== undefined || route.query !== undefined || names.length > 0) {
    responses["400"] ??= ref("BadRequest");
  }
  if (authenticated) {
    responses["401"] ??= ref("Unauthenticated");
    responses["403"] ??= ref("Forbidden");
  }
  if (names.length > 0) responses["404"] ??= ref("NotFound");
  if (authenticated && route.method !== "GET") responses["409"] ??= ref("Conflict");
  if (route.body !== undefined) {
    responses["413"] ??= ref("PayloadTooLarge");
    responses["415"] ??= ref("UnsupportedMediaType");
  }
  if (authenticated) {
    responses["429"] ??= ref("RateLimited");
    responses["503"] ??= ref("Unavailable");
  }
  responses.default = ref("Error");
  const bodyRequired =
    route.body !== undefined &&
    Array.isArray(route.body.required) &&
    route.body.required.length > 0;
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [...route.tags],
    ...(authenticated ? {} : { security: [] }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: bodyRequired,
            content: { "application/json": { schema: components.reference(route.body) } },
          },
        }),
    responses,
  };
}

/**
 * Builds the OpenAPI 3.1 document of `routes`: one operation per route with
 * its parameters, body and answer schemas, bearer authentication (API key or
 * `api` token) unless the route needs none, and the shared error answers.
 * @throws Error when the table is inconsistent (an undescribed path
 * parameter, a duplicate operation, two different schemas with one title).
 */
export function buildOpenApiDocument(
  routes: readonly ApiRoute[],
  options: OpenApiDocumentOptions = {},
): OpenApiDocument {
  const components = new SchemaComponents();
  components.reference(ERROR_SCHEMA);
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  const tags = new Set<string>();
  for (const route of routes) {
    if (operationIds.has(route.operationId)) {
      throw new Error(`operationId "${route.operationId}" is used twice`);
    }
    operationIds.add(route.operationId);
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    const method = route.method.toLowerCase();
    if (item[method] !== undefined)
      throw new Error(`${route.method} ${route.path} is defined twice`);
    item[method] = operationOf(route, components);
    for (const tag of route.tags) tags.add(tag);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Tailor API",
      version: options.version ?? TAILOR_VERSION,
      description:
        "REST API of Tailor: organizations, identities and API keys, source and custom images, customization (entitled packages, preview, apply), builds and tokens. Authenticate with `Authorization: Bearer <API key or api token>`.",
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    security: [{ bearerAuth: [] }],
    tags: [...tags].map((name) => ({
      name,
      ...(TAG_DESCRIPTIONS[name] === undefined ? {} : { description: TAG_DESCRIPTIONS[name] }),
    })),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description:
            'An API key ("tlr_<id>_<secret>") or a token of audience "api" (POST /api/v1/auth/token).',
        },
      },
      schemas: Object.fromEntries(
        [...components.schemas].map(([title, { schema }]) => [title, schema]),
      ),
      responses: ERROR_RESPONSES,
    },
  };
}
