import { Code, TailorError } from "@tailor/grpc";
import { describe, expect, it } from "vitest";
import type { ApiContext, ApiRoute } from "./api-route.js";
import { ApiRequestError } from "./api-route.js";
import { adaptRoute, restFieldName, unknownField } from "./route-adapters.js";

describe("restFieldName", () => {
  it("names service fields the way REST bodies and paths do", () => {
    expect(restFieldName("customizable_source_images[0]")).toBe("customizableSourceImages[0]");
    expect(restFieldName("org_id")).toBe("org");
    expect(restFieldName("identity_id")).toBe("identity");
    expect(restFieldName("overlay.accounts.run_as")).toBe("overlay.accounts.runAs");
    expect(restFieldName("overlay.accounts.users[1].home_dir")).toBe(
      "overlay.accounts.users[1].homeDir",
    );
    expect(restFieldName("overlay.packages[2]")).toBe("overlay.packages[2]");
  });

  it("keeps the user's own keys of environment and annotations", () => {
    expect(restFieldName("overlay.environment.my_var")).toBe("overlay.environment.my_var");
    expect(restFieldName("overlay.annotations.org.example_key")).toBe(
      "overlay.annotations.org.example_key",
    );
  });
});

const BODY = {
  type: "object",
  additionalProperties: false,
  properties: {
    overlay: {
      type: "object",
      additionalProperties: false,
      properties: {
        environment: { type: "object", additionalProperties: { type: "string" } },
        accounts: {
          type: "object",
          additionalProperties: false,
          properties: {
            users: {
              type: "array",
              items: {
                type: "object",
                additionalProperties: false,
                properties: { username: { type: "string" } },
              },
            },
          },
        },
      },
    },
  },
};

describe("unknownField", () => {
  it("finds the first key a closed object does not know, at any depth", () => {
    expect(unknownField(BODY, { overlay: { environment: { ANY_KEY: "x" } } })).toBeUndefined();
    expect(unknownField(BODY, { overlay: { packges: [] } })).toBe("overlay.packges");
    expect(unknownField(BODY, { extra: 1 })).toBe("extra");
    expect(
      unknownField(BODY, { overlay: { accounts: { users: [{ username: "a" }, { uid: 1 }] } } }),
    ).toBe("overlay.accounts.users[1].uid");
  });
});

describe("adaptRoute", () => {
  const route = (handler: ApiRoute["handler"]): ApiRoute => ({
    method: "POST",
    path: "/api/v1/things",
    operationId: "makeThing",
    summary: "Make a thing",
    tags: ["things"],
    body: BODY,
    response: { description: "done" },
    handler,
  });
  const context = (body: unknown) => ({ body }) as ApiContext;

  it("opens the body schema for fastify but refuses unknown keys itself", async () => {
    const adapted = adaptRoute(route(async () => "made"));
    expect(JSON.stringify(adapted.body)).not.toContain('"additionalProperties":false');
    await expect(adapted.handler(context({ overlay: {} }))).resolves.toBe("made");
    const refused = adapted.handler(context({ overlay: { packges: [] } }));
    await expect(refused).rejects.toBeInstanceOf(ApiRequestError);
    await expect(refused).rejects.toMatchObject({ status: 400, field: "overlay.packges" });
  });

  it("translates the field of a service error", async () => {
    const adapted = adaptRoute(
      route(async () => {
        throw new TailorError(Code.INVALID_ARGUMENT, "bad", {
          field: "customizable_source_images[3]",
          reason: "invalid",
        });
      }),
    );
    await expect(adapted.handler(context({}))).rejects.toMatchObject({
      code: Code.INVALID_ARGUMENT,
      field: "customizableSourceImages[3]",
      reason: "invalid",
      message: "bad",
    });
  });
});
