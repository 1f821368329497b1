// Schema validation of REST requests. Bodies are checked as they were sent:
// no type coercion (`{"uniqueTags": null}` is not `false`, `"true"` is not
// `true`) and no keys dropped. Query strings and path parameters arrive as
// text, so they are coerced to the schema's types ("50" → 50) as fastify
// does by default.
import type { FormatDefinition } from "ajv";
import { Ajv } from "ajv";
import type { FastifySchemaCompiler } from "fastify";

/** RFC 3339 date-time with a time zone, e.g. `2025-03-01T12:00:00Z`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;

/**
 * The formats the REST schemas use, checked as fastify's default (ajv-formats)
 * checks them. A schema naming another format fails to compile when routes
 * are registered, so a new one cannot go unchecked silently.
 */
const FORMATS: Readonly<Record<string, FormatDefinition<string>>> = {
  "date-time": {
    type: "string",
    validate: (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)),
  },
  uuid: { type: "string", validate: UUID },
};

function createAjv(options: { coerce: boolean }): Ajv {
  const ajv = new Ajv({
    coerceTypes: options.coerce ? "array" : false,
    // Unknown body keys are refused by name later (route-adapters), never dropped.
    removeAdditional: options.coerce,
    useDefaults: true,
    // One error is enough to name the field; collecting all of them costs a
    // client-chosen amount of work.
    allErrors: false,
    allowUnionTypes: true,
    addUsedSchema: false,
  });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format);
  return ajv;
}

/**
 * A fastify validator compiler for the REST API: request bodies without type
 * coercion, query strings and path parameters with it.
 */
export function createRequestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = createAjv({ coerce: false });
  const text = createAjv({ coerce: true });
  return ({ schema, httpPart }) =>
    (httpPart === "body" ? body : text).compile(schema as Record<string, unknown>);
}
