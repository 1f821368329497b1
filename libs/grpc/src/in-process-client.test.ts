import { setTimeout as sleep } from "node:timers/promises";
import { healthV1 } from "@tailor/proto";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup, Entitlement, entitlementImpl, failureOf, startServer } from "../test/fixtures.js";
import type { Client, HandlerContext, ServerInterceptor, ServiceImpl } from "./index.js";
import {
  Code,
  createGrpcClient,
  createInProcessClient,
  INTERNAL_ERROR_MESSAGE,
  TailorError,
} from "./index.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** What a caller observes of one call: the response as JSON-ish data, or the failure. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    return {
      ok: JSON.parse(JSON.stringify(await call, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))),
    };
  } catch {
    return { failed: await failureOf(call) };
  }
}

describe("createInProcessClient", () => {
  it("gives the same results and errors as the network client", async () => {
    const impl = entitlementImpl();
    const { address } = await startServer(cleanup, impl);
    const network = cleanup.client(createGrpcClient(Entitlement, { address }));
    const inProcess = createInProcessClient(Entitlement, impl);

    const calls: ((client: Client<typeof Entitlement>) => Promise<unknown>)[] = [
      (client) => client.getServiceInfo({}),
      (client) => client.createOrganization({ name: "acme", displayName: "Acme" }),
      (client) => client.createOrganization({ name: "taken" }),
      (client) => client.getOrganization({ id: "x" }),
      (client) => client.getOrganization({ id: "boom" }),
    ];
    for (const call of calls) {
      expect(await outcome(call(inProcess))).toEqual(await outcome(call(network)));
    }
    expect(await outcome(inProcess.getOrganization({ id: "boom" }))).toEqual({
      failed: {
        code: Code.INTERNAL,
        message: INTERNAL_ERROR_MESSAGE,
        reason: undefined,
        field: undefined,
        metadata: {},
      },
    });
  });

  it("hands the handler a decoded copy, not the caller's object", async () => {
    let received: unknown;
    const client = createInProcessClient(
      Entitlement,
      entitlementImpl({
        createOrganization: (request) => {
          received = request;
          return { organization: { name: request.name } };
        },
      }),
    );
    const request = { name: "acme", displayName: "Acme" };

    const response = await client.createOrganization(request);

    expect(received).not.toBe(request);
    expect(received).toMatchObject(request);
    expect(response.organization?.name).toBe("acme");
  });

  it("ends a call at its deadline and aborts the handler's signal", async () => {
    let reason: unknown;
    const client = createInProcessClient(
      Entitlement,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          ctx.signal.addEventListener("abort", () => {
            reason = ctx.signal.reason;
          });
          await sleep(5000, undefined, { ref: false }); // ignores the signal: the caller must still be released
          return {};
        },
      }),
    );

    const started = performance.now();
    expect((await failureOf(client.getServiceInfo({}, { deadlineMs: 100 }))).code).toBe(
      Code.DEADLINE_EXCEEDED,
    );
    // The handler would hold the call for 5 s; a loaded CI machine still answers well within 3.
    expect(performance.now() - started).toBeLessThan(3000);
    expect((reason as TailorError).code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it("runs server interceptors and retries like the network client", async () => {
    const seen: string[] = [];
    const tracing: ServerInterceptor = (next) => async (request) => {
      seen.push(`${request.method.name} ${request.ctx.requestId}`);
      return next(request);
    };
    let calls = 0;
    const client = createInProcessClient(
      Entitlement,
      entitlementImpl({
        getServiceInfo: () => {
          if (++calls < 3) throw new TailorError(Code.UNAVAILABLE, "warming up");
          return { info: { name: "ok" } };
        },
      }),
      { interceptors: [tracing], retry: { initialBackoffMs: 1 } },
    );

    const response = await client.getServiceInfo({}, { metadata: { "x-request-id": "r-1" } });

    expect(response.info?.name).toBe("ok");
    expect(seen).toEqual(["GetServiceInfo r-1", "GetServiceInfo r-1", "GetServiceInfo r-1"]);
  });

  it("streams, and cancels the handler when the caller stops early", async () => {
    const { SERVING, NOT_SERVING } = healthV1.HealthCheckResponse_ServingStatus;
    let handlerCtx: HandlerContext | undefined;
    const impl: ServiceImpl<typeof healthV1.Health> = {
      check: () => ({ status: SERVING }),
      async *watch(_request, ctx) {
        handlerCtx = ctx;
        yield { status: SERVING };
        yield { status: NOT_SERVING };
        await sleep(5000, undefined, { signal: ctx.signal });
      },
    };
    const client = createInProcessClient(healthV1.Health, impl);

    const seen: number[] = [];
    for await (const response of client.watch({})) {
      seen.push(response.status);
      if (seen.length === 2) break;
    }

    expect(seen).toEqual([SERVING, NOT_SERVING]);
    expect(handlerCtx?.signal.aborted).toBe(true);
    expect(handlerCtx?.signal.reason).toMatchObject({ code: Code.CANCELLED });
  });

  it("delivers a mid-stream error with its details", async () => {
    const impl: ServiceImpl<typeof healthV1.Health> = {
      check: () => ({}),
      async *watch() {
        yield { status: healthV1.HealthCheckResponse_ServingStatus.SERVING };
        throw new TailorError(Code.RESOURCE_EXHAUSTED, "too many watchers", {
          reason: "watch_quota",
        });
      },
    };
    const client = createInProcessClient(healthV1.Health, impl);

    const seen: number[] = [];
    const failure = await failureOf(
      (async () => {
        for await (const response of client.watch({})) seen.push(response.status);
      })(),
    );

    expect(seen).toHaveLength(1);
    expect(failure).toMatchObject({
      code: Code.RESOURCE_EXHAUSTED,
      message: "too many watchers",
      reason: "watch_quota",
    });
  });

  it("records server metrics when given a registry", async () => {
    const registry = new Registry();
    const client = createInProcessClient(Entitlement, entitlementImpl(), { metrics: registry });

    await failureOf(client.getOrganization({ id: "x" }));

    expect(await registry.metrics()).toContain(
      `tailor_grpc_server_handling_seconds_count{service="${Entitlement.typeName}",method="GetOrganization",code="NOT_FOUND"} 1`,
    );
  });
});
