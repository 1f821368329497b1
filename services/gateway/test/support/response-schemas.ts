// Checks REST answers against the schemas the route table documents, with
// fastify's own validator made strict: no coercion, no defaults, nothing
// removed, so an answer passes only when it is exactly what the OpenAPI
// document promises.
import Fastify from "fastify";
import { restRoutes } from "../../src/index.js";

/** Says what is wrong with `body` as the answer of `operationId`, or undefined when it fits. */
export type ResponseSchemaCheck = (
  operationId: string,
  body: unknown,
) => Promise<string | undefined>;

/** Compiles every documented response schema once and returns the check. */
export async function createResponseSchemaCheck(): Promise<ResponseSchemaCheck> {
  const checker = Fastify({
    ajv: {
      customOptions: {
        coerceTypes: false,
        useDefaults: false,
        removeAdditional: false,
        allowUnionTypes: true,
      },
    },
  });
  for (const route of restRoutes) {
    if (route.response.schema === undefined) continue;
    checker.post(
      `/${route.operationId}`,
      { schema: { body: route.response.schema } },
      async () => ({}),
    );
  }
  await checker.ready();
  return async (operationId, body) => {
    const answer = await checker.inject({
      method: "POST",
      url: `/${operationId}`,
      payload: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
    return answer.statusCode === 200 ? undefined : answer.body;
  };
}
