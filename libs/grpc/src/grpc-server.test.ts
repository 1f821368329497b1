import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { createLogger, createSilentLogger } from "@tailor/log";
import { healthV1 } from "@tailor/proto";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { Cleanup, Entitlement, entitlementImpl, failureOf, startServer } from "../test/fixtures.js";
import type { HandlerContext, ServerInterceptor } from "./index.js";
import {
  Code,
  createGrpcClient,
  createGrpcServer,
  createHealthClient,
  GrpcServerError,
  INTERNAL_ERROR_MESSAGE,
  TailorError,
} from "./index.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Resolves with a handler's signal reason once it aborts. */
function abortReason(ctx: HandlerContext): Promise<unknown> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) resolve(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason), { once: true });
  });
}

describe("createGrpcServer", () => {
  it("round-trips typed unary calls over the network", async () => {
    const { address } = await startServer(cleanup);
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    const info = await client.getServiceInfo({});
    expect(info.info).toMatchObject({ name: "entitlement", version: "1.2.3", instance: "test-1" });

    const created = await client.createOrganization({ name: "acme", displayName: "Acme Inc." });
    expect(created.organization?.name).toBe("acme");
    expect(created.organization?.displayName).toBe("Acme Inc.");
    expect(timestampDate(created.organization!.createdAt!).toISOString()).toBe(
      "2024-05-01T12:00:00.000Z",
    );
  });

  it("delivers a TailorError's code, message, reason, field and metadata to the caller", async () => {
    const { address } = await startServer(cleanup);
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    expect(await failureOf(client.getOrganization({ id: "x" }))).toEqual({
      code: Code.NOT_FOUND,
      message: 'organization "x" not found',
      reason: "org_not_found",
      field: "id",
      metadata: { id: "x" },
    });
  });

  it("turns a plain thrown Error into INTERNAL without leaking its text or stack", async () => {
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getOrganization: () => {
          throw new Error(
            'duplicate key value violates unique constraint "organizations_name_key"',
          );
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    const failure = await failureOf(client.getOrganization({ id: "x" }));
    expect(failure).toMatchObject({ code: Code.INTERNAL, message: INTERNAL_ERROR_MESSAGE });
    expect(failure.message).not.toContain("organizations_name_key");
  });

  it("still answers with the error when a handler puts a huge value in its message and details", async () => {
    const huge = "x".repeat(200_000);
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getOrganization: () => {
          throw new TailorError(Code.INVALID_ARGUMENT, `bad id "${huge}"`, {
            reason: "invalid_field",
            field: "id",
            metadata: { id: huge },
          });
        },
      }),
    );
    const client = cleanup.client(
      createGrpcClient(Entitlement, { address, defaultDeadlineMs: 5000 }),
    );

    // Unbounded, grpc-js drops the reply and the caller only sees its deadline pass.
    const failure = await failureOf(client.getOrganization({ id: "x" }));
    expect(failure.code).toBe(Code.INVALID_ARGUMENT);
    expect(failure.field).toBe("id");
    expect(failure.message.startsWith('bad id "xxx')).toBe(true);
    expect(failure.message).toContain("(200009 characters)");
    expect(failure.message.length).toBeLessThanOrEqual(4096);
    expect(failure.metadata.id?.length).toBeLessThanOrEqual(512);
  });

  it("ends a call at its deadline and aborts the handler's signal", async () => {
    let handlerAborted: Promise<unknown> = Promise.resolve();
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          handlerAborted = abortReason(ctx);
          await sleep(5000, undefined, { signal: ctx.signal });
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    const started = performance.now();
    const failure = await failureOf(client.getServiceInfo({}, { deadlineMs: 200 }));
    const elapsed = performance.now() - started;

    expect(failure.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    const reason = await handlerAborted;
    expect(reason).toBeInstanceOf(TailorError);
    expect((reason as TailorError).code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it("aborts the handler's signal with CANCELLED when the caller aborts", async () => {
    let handlerAborted: Promise<unknown> = Promise.resolve();
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          handlerAborted = abortReason(ctx);
          started();
          await sleep(5000, undefined, { signal: ctx.signal });
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));
    const controller = new AbortController();

    const call = failureOf(client.getServiceInfo({}, { signal: controller.signal }));
    await handlerStarted;
    controller.abort();

    expect((await call).code).toBe(Code.CANCELLED);
    expect(((await handlerAborted) as TailorError).code).toBe(Code.CANCELLED);
  });

  it("gives handlers the caller's metadata, request id and peer", async () => {
    let seen: { tenant?: string; requestId: string; peer: string; deadline?: Date } | undefined;
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: (_request, ctx) => {
          seen = {
            requestId: ctx.requestId,
            peer: ctx.peer,
            ...(ctx.deadline === undefined ? {} : { deadline: ctx.deadline }),
            ...(ctx.metadata.get("X-Tenant") === undefined
              ? {}
              : { tenant: ctx.metadata.get("X-Tenant")! }),
          };
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    await client.getServiceInfo(
      {},
      { metadata: { "x-tenant": "acme", "x-request-id": "req-42" }, deadlineMs: 3000 },
    );

    expect(seen?.tenant).toBe("acme");
    expect(seen?.requestId).toBe("req-42");
    expect(seen?.peer).toMatch(/127\.0\.0\.1/);
    expect(seen?.deadline?.getTime()).toBeGreaterThan(Date.now());
  });

  it("rejects a second listen and adding a service twice", async () => {
    const { server } = await startServer(cleanup);
    await expect(server.listen("127.0.0.1:0")).rejects.toBeInstanceOf(GrpcServerError);
    expect(() => server.add(Entitlement, entitlementImpl())).toThrow(GrpcServerError);
  });

  it("refuses an implementation that lacks a handler, naming it", () => {
    const server = cleanup.server(
      createGrpcServer({ logger: createLogger({ service: "t", level: "silent" }) }),
    );
    const { getOrganization: _, ...incomplete } = entitlementImpl();
    expect(() => server.add(Entitlement, incomplete as ReturnType<typeof entitlementImpl>)).toThrow(
      /getOrganization/,
    );
  });
});

describe("health", () => {
  it("answers Check for the server and each added service, NOT_FOUND for unknown ones", async () => {
    const { server, address } = await startServer(cleanup);
    const health = cleanup.client(createHealthClient(address));

    expect(await health.check()).toBe("SERVING");
    expect(await health.check(Entitlement.typeName)).toBe("SERVING");
    expect(await health.check("tailor.nope.v1.NopeService")).toBe("SERVICE_UNKNOWN");

    const raw = cleanup.client(createGrpcClient(healthV1.Health, { address }));
    expect((await failureOf(raw.check({ service: "tailor.nope.v1.NopeService" }))).code).toBe(
      Code.NOT_FOUND,
    );

    server.health.set(Entitlement.typeName, "NOT_SERVING");
    expect(await health.check(Entitlement.typeName)).toBe("NOT_SERVING");
  });

  it("keeps a held service NOT_SERVING through listen until the hold is released", async () => {
    const server = cleanup.server(
      createGrpcServer({ logger: createSilentLogger() }).add(Entitlement, entitlementImpl()),
    );
    // Held before listening, as a service still loading its data does in start().
    const loading = server.health.hold(Entitlement.typeName);
    const { address } = await server.listen("127.0.0.1:0");
    const health = cleanup.client(createHealthClient(address));
    expect(await health.check()).toBe("SERVING");
    expect(await health.check(Entitlement.typeName)).toBe("NOT_SERVING");
    loading.release();
    loading.release();
    expect(await health.check(Entitlement.typeName)).toBe("SERVING");
    // An explicit NOT_SERVING survives a hold released later.
    const again = server.health.hold(Entitlement.typeName);
    server.health.set(Entitlement.typeName, "NOT_SERVING");
    again.release();
    expect(await health.check(Entitlement.typeName)).toBe("NOT_SERVING");
  });

  it("streams status changes to Watch and NOT_SERVING when shutdown begins", async () => {
    const { server, address } = await startServer(cleanup);
    const client = cleanup.client(createGrpcClient(healthV1.Health, { address }));
    const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = healthV1.HealthCheckResponse_ServingStatus;

    const seen: healthV1.HealthCheckResponse_ServingStatus[] = [];
    const watched = (async () => {
      for await (const response of client.watch({ service: Entitlement.typeName })) {
        seen.push(response.status);
        if (seen.length === 1) server.health.set(Entitlement.typeName, "NOT_SERVING");
        if (seen.length === 2) server.health.set(Entitlement.typeName, "SERVING");
        if (seen.length === 3) void server.shutdown();
      }
    })();

    await watched; // the stream ends once shutdown has told the watcher
    expect(seen).toEqual([SERVING, NOT_SERVING, SERVING, NOT_SERVING]);
    expect(server.health.get("")).toBe("NOT_SERVING");

    const unknown = await firstOf(
      cleanup.client(createGrpcClient(healthV1.Health, { address: await restart() })).watch({
        service: "tailor.nope.v1.NopeService",
      }),
    );
    expect(unknown?.status).toBe(SERVICE_UNKNOWN);
  });
});

async function restart(): Promise<string> {
  return (await startServer(cleanup)).address;
}

async function firstOf<T>(stream: AsyncIterable<T>): Promise<T | undefined> {
  for await (const item of stream) return item;
  return undefined;
}

describe("server streaming", () => {
  it("delivers messages written before a mid-stream error, then the error with its details", async () => {
    const failMidStream: ServerInterceptor = (next) => async (request) => {
      const response = await next(request);
      if (response.kind !== "server_streaming") return response;
      return {
        kind: "server_streaming",
        messages: (async function* () {
          for await (const message of response.messages) {
            yield message;
            throw new TailorError(Code.RESOURCE_EXHAUSTED, "too many watchers", {
              reason: "watch_quota",
            });
          }
        })(),
      };
    };
    const { address } = await startServer(cleanup, entitlementImpl(), {
      interceptors: [failMidStream],
    });
    const client = cleanup.client(createGrpcClient(healthV1.Health, { address }));

    const received: number[] = [];
    const failure = await failureOf(
      (async () => {
        for await (const response of client.watch({ service: "" })) received.push(response.status);
      })(),
    );

    expect(received).toEqual([healthV1.HealthCheckResponse_ServingStatus.SERVING]);
    expect(failure).toMatchObject({
      code: Code.RESOURCE_EXHAUSTED,
      message: "too many watchers",
      reason: "watch_quota",
    });
  });
});

describe("graceful shutdown", () => {
  it("lets an in-flight call finish, then refuses new calls", async () => {
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { server, address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async () => {
          started();
          await sleep(300);
          return { info: { name: "finished" } };
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address, retry: false }));

    const call = client.getServiceInfo({});
    await handlerStarted;
    const shutdownStarted = performance.now();
    const shutdown = server.shutdown({ graceMs: 5000 });

    expect((await call).info?.name).toBe("finished");
    await shutdown;
    // Well under the 5 s grace: shutdown ends when the last call does.
    expect(performance.now() - shutdownStarted).toBeLessThan(4000);
    expect(server.shutdown()).toBe(shutdown); // idempotent: the same promise
    expect((await failureOf(client.getServiceInfo({}))).code).toBe(Code.UNAVAILABLE);
  });

  it("cuts off a call that outlives the grace period and resolves in about graceMs", async () => {
    let handlerAborted: Promise<unknown> = Promise.resolve();
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const { server, address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          handlerAborted = abortReason(ctx);
          started();
          await sleep(10_000, undefined, { signal: ctx.signal });
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address, retry: false }));

    const call = failureOf(client.getServiceInfo({}));
    await handlerStarted;
    const shutdownStarted = performance.now();
    await server.shutdown({ graceMs: 200 });
    const elapsed = performance.now() - shutdownStarted;

    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    // Handlers that honour their signal answer UNAVAILABLE, which callers may retry elsewhere.
    expect(await call).toMatchObject({
      code: Code.UNAVAILABLE,
      message: "the server is shutting down",
    });
    expect(((await handlerAborted) as TailorError).code).toBe(Code.UNAVAILABLE);
  });
});

describe("observability", () => {
  it("records tailor_grpc_server_handling_seconds by service, method and code", async () => {
    const registry = new Registry();
    const { address } = await startServer(cleanup, entitlementImpl(), { metrics: registry });
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    await client.getServiceInfo({});
    await failureOf(client.getOrganization({ id: "x" }));

    const text = await registry.metrics();
    const service = `service="${Entitlement.typeName}"`;
    expect(text).toContain(
      `tailor_grpc_server_handling_seconds_count{${service},method="GetServiceInfo",code="OK"} 1`,
    );
    expect(text).toContain(
      `tailor_grpc_server_handling_seconds_count{${service},method="GetOrganization",code="NOT_FOUND"} 1`,
    );
    expect(text).toContain(
      `tailor_grpc_server_handled_total{${service},method="GetOrganization",code="NOT_FOUND"} 1`,
    );
  });

  it("shares one registry between servers in the same process", async () => {
    const registry = new Registry();
    await startServer(cleanup, entitlementImpl(), { metrics: registry });
    await expect(
      startServer(cleanup, entitlementImpl(), { metrics: registry }),
    ).resolves.toBeDefined();
  });

  it("logs each call with method, code and duration, and a bug with its stack", async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = createLogger({ service: "entitlement", level: "info", destination });
    const { address } = await startServer(cleanup, entitlementImpl(), { logger });
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    await client.getServiceInfo({}, { metadata: { "x-request-id": "req-7" } });
    await failureOf(client.getOrganization({ id: "boom" }));

    const calls = lines.filter((line) => line.msg === "grpc call handled");
    expect(calls[0]).toMatchObject({
      level: 30,
      method: `${Entitlement.typeName}/GetServiceInfo`,
      requestId: "req-7",
      code: "OK",
    });
    expect(typeof calls[0]?.ms).toBe("number");
    expect(calls[1]).toMatchObject({ level: 50, code: "INTERNAL", error: "boom" });
    expect(calls[1]?.err).toMatchObject({ stack: expect.stringContaining("boom") });
  });
});
