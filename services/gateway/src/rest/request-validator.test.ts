import type { FastifySchema } from "fastify";
import { describe, expect, it } from "vitest";
import { createRequestValidatorCompiler } from "./request-validator.js";

const SCHEMA = {
  type: "object",
  properties: {
    flag: { type: "boolean" },
    count: { type: "integer" },
    since: { type: "string", format: "date-time" },
    id: { type: "string", format: "uuid" },
  },
};

/** Validates `value` as `httpPart`; the (possibly coerced) value, or the first error's path and message. */
function check(httpPart: string, value: Record<string, unknown>) {
  const validate = createRequestValidatorCompiler()({
    schema: SCHEMA as FastifySchema,
    method: "POST",
    url: "/",
    httpPart,
  }) as ((data: unknown) => boolean) & {
    errors?: { instancePath: string; message?: string }[] | null;
  };
  const copy = { ...value };
  return validate(copy) ? { ok: copy } : { error: validate.errors?.[0]?.instancePath };
}

describe("createRequestValidatorCompiler", () => {
  it("takes body values as sent", () => {
    expect(check("body", { flag: null })).toEqual({ error: "/flag" });
    expect(check("body", { flag: "true" })).toEqual({ error: "/flag" });
    expect(check("body", { count: "7" })).toEqual({ error: "/count" });
    expect(check("body", { flag: true, count: 7 })).toEqual({ ok: { flag: true, count: 7 } });
  });

  it("coerces query strings and path parameters to the schema's types", () => {
    expect(check("querystring", { flag: "true", count: "7" })).toEqual({
      ok: { flag: true, count: 7 },
    });
    expect(check("params", { count: "x" })).toEqual({ error: "/count" });
  });

  it("checks the formats the schemas use", () => {
    const valid = {
      since: "2025-03-01T12:00:00.5+01:00",
      id: "0195F2C4-1B2A-7000-8000-000000000001",
    };
    expect(check("body", valid)).toEqual({ ok: valid });
    expect(check("body", { since: "2025-03-01" })).toEqual({ error: "/since" });
    expect(check("body", { since: "2025-13-45T99:00:00Z" })).toEqual({ error: "/since" });
    expect(check("querystring", { id: "not-a-uuid" })).toEqual({ error: "/id" });
  });
});
