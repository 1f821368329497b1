// Adjustments every REST route gets before fastify sees it: request bodies
// refuse keys their schema does not know (fastify's validator would drop them
// silently, so a typo like "packges" would pass unnoticed), and fields named
// in service errors ("customizable_source_images[0]") are given in the
// request's own words ("customizableSourceImages[0]").
import { TailorError } from "@tailor/grpc";
import type { ApiContext, ApiRoute, JsonSchema } from "./api-route.js";
import { ApiRequestError } from "./api-route.js";

/** Service fields that are path parameters of the REST routes. */
const PATH_FIELDS: Readonly<Record<string, string>> = {
  org_id: "org",
  identity_id: "identity",
  api_key_id: "key",
};

/** Map fields: what follows them in a field path is a user-chosen key, kept as written. */
const MAP_FIELDS = new Set(["environment", "annotations"]);

/**
 * A service's field path in REST words: snake_case segments in camelCase,
 * organization and identity ids as the path parameters that carry them;
 * keys of environment and annotation maps stay as they are.
 */
export function restFieldName(field: string): string {
  const segments = field.split(".");
  const renamed: string[] = [];
  for (const [index, segment] of segments.entries()) {
    const bracket = segment.indexOf("[");
    const name = bracket < 0 ? segment : segment.slice(0, bracket);
    const rest = bracket < 0 ? "" : segment.slice(bracket);
    const path = index === 0 ? PATH_FIELDS[name] : undefined;
    renamed.push(
      (path ?? name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())) + rest,
    );
    // The rest is a key the user chose (it may contain dots itself).
    if (MAP_FIELDS.has(name) && bracket < 0) {
      renamed.push(...segments.slice(index + 1));
      break;
    }
  }
  return renamed.join(".");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The first key of `value` that `schema` does not allow
 * (`additionalProperties: false`), as a field path, or undefined.
 */
export function unknownField(schema: JsonSchema, value: unknown, path = ""): string | undefined {
  const properties = isObject(schema.properties) ? schema.properties : undefined;
  if (isObject(value) && properties !== undefined) {
    for (const [key, item] of Object.entries(value)) {
      const field = path === "" ? key : `${path}.${key}`;
      const property = properties[key];
      if (property === undefined) {
        if (schema.additionalProperties === false) return field;
        continue;
      }
      if (isObject(property)) {
        const inner = unknownField(property, item, field);
        if (inner !== undefined) return inner;
      }
    }
  }
  if (Array.isArray(value) && isObject(schema.items)) {
    for (const [index, item] of value.entries()) {
      const inner = unknownField(schema.items, item, `${path}[${index}]`);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** A copy of `schema` without `additionalProperties: false` anywhere (it stays in the document). */
function withoutClosedObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutClosedObjects);
  if (!isObject(schema)) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "additionalProperties" && value === false) continue;
    copy[key] = key === "enum" || key === "const" ? value : withoutClosedObjects(value);
  }
  return copy;
}

/** `error` with its field in REST words, when it is a service error naming one. */
function inRestWords(error: unknown): unknown {
  if (!(error instanceof TailorError) || error.field === undefined) return error;
  const field = restFieldName(error.field);
  if (field === error.field) return error;
  return new TailorError(error.code, error.message, {
    ...(error.reason === undefined ? {} : { reason: error.reason }),
    field,
    metadata: error.metadata,
    cause: error,
  });
}

/**
 * The route as registered with fastify: its body schema open to unknown keys
 * (so none is dropped before the handler refuses it with a 400 naming the
 * key) and its handler translating service field names.
 */
export function adaptRoute(route: ApiRoute): ApiRoute {
  const declared = route.body;
  return {
    ...route,
    ...(declared === undefined ? {} : { body: withoutClosedObjects(declared) as JsonSchema }),
    async handler(context: ApiContext) {
      if (declared !== undefined) {
        const field = unknownField(declared, context.body);
        if (field !== undefined) {
          throw new ApiRequestError(
            400,
            "INVALID_ARGUMENT",
            `body field "${field}" is not known; see the operation's request schema`,
            field,
          );
        }
      }
      try {
        return await route.handler(context);
      } catch (error) {
        throw inRestWords(error);
      }
    },
  };
}
