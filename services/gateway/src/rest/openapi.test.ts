import { describe, expect, it } from "vitest";
import type { ApiRoute } from "./api-route.js";
import { buildOpenApiDocument } from "./openapi.js";

const THING = {
  title: "Thing",
  type: "object",
  properties: { name: { type: "string" } },
  required: ["name"],
};

function route(overrides: Partial<ApiRoute> = {}): ApiRoute {
  return {
    method: "GET",
    path: "/api/v1/things/{thing}",
    operationId: "getThing",
    summary: "Get a thing",
    tags: ["things"],
    params: { thing: "the thing's name" },
    response: { description: "The thing.", schema: THING },
    handler: async () => undefined,
    ...overrides,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON.
type Json = any;

describe("buildOpenApiDocument", () => {
  it("turns titled schemas into shared components", () => {
    const document: Json = buildOpenApiDocument(
      [
        route(),
        route({
          method: "GET",
          path: "/api/v1/things",
          operationId: "listThings",
          params: {},
          response: {
            description: "Things.",
            schema: { type: "object", properties: { things: { type: "array", items: THING } } },
          },
        }),
      ],
      { serverUrl: "https://tailor.example", version: "1.2.3" },
    );
    expect(document.info.version).toBe("1.2.3");
    expect(document.servers).toEqual([{ url: "https://tailor.example" }]);
    expect(document.components.schemas.Thing).toEqual(THING);
    const get = document.paths["/api/v1/things/{thing}"].get;
    expect(get.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Thing",
    });
    expect(get.parameters).toEqual([
      {
        name: "thing",
        in: "path",
        required: true,
        description: "the thing's name",
        schema: { type: "string" },
      },
    ]);
    expect(Object.keys(get.responses)).toEqual([
      "200",
      "400",
      "401",
      "403",
      "404",
      "429",
      "503",
      "default",
    ]);
    const list = document.paths["/api/v1/things"].get;
    expect(
      list.responses["200"].content["application/json"].schema.properties.things.items,
    ).toEqual({ $ref: "#/components/schemas/Thing" });
  });

  it("documents the answers a changing operation with a body may give", () => {
    const document: Json = buildOpenApiDocument([
      route({
        method: "POST",
        body: { type: "object", properties: { name: { type: "string" } } },
        response: { status: 202, description: "Accepted." },
        otherResponses: { 204: "Nothing to do.", 502: "Stored, not built." },
      }),
    ]);
    const post = document.paths["/api/v1/things/{thing}"].post;
    expect(Object.keys(post.responses)).toEqual([
      "202",
      "204",
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "415",
      "429",
      "502",
      "503",
      "default",
    ]);
    expect(post.responses["204"]).toEqual({ description: "Nothing to do." });
    expect(post.responses["502"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
    expect(post.responses["415"]).toEqual({
      $ref: "#/components/responses/UnsupportedMediaType",
    });
  });

  it("marks routes without authentication", () => {
    const document: Json = buildOpenApiDocument([route({ auth: "none" })]);
    const get = document.paths["/api/v1/things/{thing}"].get;
    expect(get.security).toEqual([]);
    expect(get.responses["401"]).toBeUndefined();
  });

  it("refuses an inconsistent route table", () => {
    expect(() => buildOpenApiDocument([route({ params: {} })])).toThrow(/\{thing\}/);
    expect(() => buildOpenApiDocument([route(), route({ path: "/api/v1/other/{thing}" })])).toThrow(
      /getThing/,
    );
    expect(() =>
      buildOpenApiDocument([
        route(),
        route({
          operationId: "other",
          path: "/api/v1/other/{thing}",
          response: { description: "x", schema: { ...THING, required: [] } },
        }),
      ]),
    ).toThrow(/"Thing"/);
  });
});
