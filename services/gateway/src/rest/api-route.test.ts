import type { Principal } from "@tailor/auth";
import type { FastifyInstance } from "fastify";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import type { ApiRoute } from "./api-route.js";
import { registerApiRoutes } from "./api-route.js";

/** A promise with its resolve function. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Gateway dependencies that accept any bearer credential as one member. */
const acceptingDeps = {
  auth: {
    credentials: {
      limitKey: () => "token:test",
      resolve: async () => ({ principal: {} as Principal, token: "api-token" }),
      resolveLocally: async () => undefined,
    },
    failures: { blockedFor: () => undefined, fail: () => undefined },
  },
  callerMetadata: () => ({ authorization: "Bearer api-token" }),
} as unknown as GatewayDependencies;

type Outcome = "cancelled" | "not cancelled";

describe("registerApiRoutes", () => {
  let app: FastifyInstance | undefined;
  /** Lets a handler still waiting finish when its test is over. */
  let release = deferred();

  afterEach(async () => {
    release.resolve();
    await app?.close();
    app = undefined;
  });

  /**
   * Serves one route whose handler waits until its client goes away (or the
   * test releases it), then tells whether its service calls were cancelled.
   */
  async function serve(method: "GET" | "POST", auth: "required" | "none") {
    release = deferred();
    const released = release.promise;
    const entered = deferred();
    const outcome = deferred<Outcome>();
    const route: ApiRoute = {
      method,
      path: "/api/v1/slow",
      operationId: "slow",
      summary: "Takes its time",
      tags: ["test"],
      auth,
      ...(method === "POST"
        ? { body: { type: "object", properties: { name: { type: "string" } } } }
        : {}),
      response: { description: "Whether the calls were cancelled." },
      async handler({ call, reply }) {
        // Registered after the route's own listener, so it runs after it.
        const gone = new Promise<void>((resolve) => reply.raw.once("close", () => resolve()));
        entered.resolve();
        await Promise.race([gone, released]);
        const result: Outcome = call.signal?.aborted === true ? "cancelled" : "not cancelled";
        outcome.resolve(result);
        return { result };
      },
    };
    app = Fastify({ forceCloseConnections: true });
    registerApiRoutes(app, acceptingDeps, [route]);
    const url = `${await app.listen({ port: 0, host: "127.0.0.1" })}/api/v1/slow`;
    const send = (signal?: AbortSignal) =>
      fetch(url, {
        method,
        ...(signal === undefined ? {} : { signal }),
        headers: {
          authorization: "Bearer whoever",
          ...(method === "POST" ? { "content-type": "application/json" } : {}),
        },
        ...(method === "POST" ? { body: '{"name":"slow"}' } : {}),
      });
    return { send, entered: entered.promise, outcome: outcome.promise };
  }

  for (const method of ["POST", "GET"] as const) {
    for (const auth of ["required", "none"] as const) {
      it(`cancels the service calls of a ${method} (auth ${auth}) whose client goes away`, async () => {
        const { send, entered, outcome } = await serve(method, auth);
        const client = new AbortController();
        const answered = send(client.signal).catch(() => undefined);
        await entered;
        client.abort();
        await answered;
        expect(await outcome).toBe("cancelled");
      });

      it(`keeps the service calls of a ${method} (auth ${auth}) whose client waits`, async () => {
        const { send, entered, outcome } = await serve(method, auth);
        const answered = send();
        await entered;
        release.resolve();
        expect(await outcome).toBe("not cancelled");
        const response = await answered;
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ result: "not cancelled" });
      });
    }
  }
});
