import { createServer } from "node:net";
import { createSilentLogger } from "@tailor/log";
import { healthV1 } from "@tailor/proto";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  Cleanup,
  countAttempts,
  Entitlement,
  entitlementImpl,
  failureOf,
  startServer,
} from "../test/fixtures.js";
import type { ServerInterceptor } from "./index.js";
import { Code, createGrpcClient, createGrpcServer, TailorError } from "./index.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** A port nothing listens on: bound once by the OS, then released. */
async function closedPortAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** A handler that fails with `code` the first `failures` times, then answers. */
function flaky(code: Code, failures: number) {
  let calls = 0;
  return {
    calls: () => calls,
    impl: entitlementImpl({
      getServiceInfo: () => {
        calls++;
        if (calls <= failures) throw new TailorError(code, `attempt ${calls} failed`);
        return { info: { name: "entitlement" } };
      },
    }),
  };
}

describe("createGrpcClient retries", () => {
  it("retries UNAVAILABLE and succeeds on the third attempt", async () => {
    const handler = flaky(Code.UNAVAILABLE, 2);
    const { address } = await startServer(cleanup, handler.impl);
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    const response = await client.getServiceInfo({});

    expect(response.info?.name).toBe("entitlement");
    expect(handler.calls()).toBe(3);
  });

  it("does not resend a call that may have side effects after the server answered UNAVAILABLE", async () => {
    let calls = 0;
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        createOrganization: () => {
          calls++;
          // E.g. the row was written, then the handler was cut off at shutdown.
          throw new TailorError(Code.UNAVAILABLE, "the server is shutting down");
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    expect((await failureOf(client.createOrganization({ name: "acme" }))).code).toBe(
      Code.UNAVAILABLE,
    );
    expect(calls).toBe(1);
  });

  it("retries any call that never reached a server", async () => {
    let calls = 0;
    const address = await closedPortAddress();
    const client = cleanup.client(
      createGrpcClient(Entitlement, {
        address,
        // grpc-js waits about a second before redialling a refused address.
        retry: { maxAttempts: 30, initialBackoffMs: 250, maxBackoffMs: 250 },
        defaultDeadlineMs: 5_000,
      }),
    );
    const pending = client.createOrganization({ name: "acme" });
    // A server appears on that port during the backoff; the retried request lands there.
    await new Promise((r) => setTimeout(r, 50));
    const server = cleanup.server(
      createGrpcServer({ logger: createSilentLogger() }).add(
        Entitlement,
        entitlementImpl({
          createOrganization: (request) => {
            calls++;
            return { organization: { id: "1", name: request.name } };
          },
        }),
      ),
    );
    await server.listen(address);
    const response = await pending;
    expect(response.organization?.name).toBe("acme");
    expect(calls).toBe(1);
  });

  it.each([
    ["INTERNAL", Code.INTERNAL],
    ["ALREADY_EXISTS", Code.ALREADY_EXISTS],
    ["DEADLINE_EXCEEDED", Code.DEADLINE_EXCEEDED],
    ["ABORTED", Code.ABORTED],
  ])("does not retry %s", async (_name, code) => {
    const handler = flaky(code, 5);
    const { address } = await startServer(cleanup, handler.impl);
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    expect((await failureOf(client.getServiceInfo({}))).code).toBe(code);
    expect(handler.calls()).toBe(1);
  });

  it("gives up on UNAVAILABLE after maxAttempts and reports the last failure", async () => {
    const handler = flaky(Code.UNAVAILABLE, 10);
    const { address } = await startServer(cleanup, handler.impl);
    const client = cleanup.client(
      createGrpcClient(Entitlement, { address, retry: { maxAttempts: 4, initialBackoffMs: 5 } }),
    );

    expect(await failureOf(client.getServiceInfo({}))).toMatchObject({
      code: Code.UNAVAILABLE,
      message: "attempt 4 failed",
    });
    expect(handler.calls()).toBe(4);
  });

  it("fails with UNAVAILABLE after a bounded number of attempts when nothing listens", async () => {
    const counter = countAttempts();
    const client = cleanup.client(
      createGrpcClient(Entitlement, {
        address: await closedPortAddress(),
        interceptors: [counter.interceptor],
      }),
    );

    const started = performance.now();
    expect((await failureOf(client.getServiceInfo({}))).code).toBe(Code.UNAVAILABLE);
    expect(counter.attempts.get("GetServiceInfo")).toBe(3);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("never retries past the call's deadline", async () => {
    const handler = flaky(Code.UNAVAILABLE, 10);
    const { address } = await startServer(cleanup, handler.impl);
    const client = cleanup.client(
      createGrpcClient(Entitlement, {
        address,
        retry: { maxAttempts: 10, initialBackoffMs: 20_000, maxBackoffMs: 20_000 },
      }),
    );

    // The deadline leaves room for a slow first connection on a loaded CI
    // machine; the backoff is far longer than the deadline, so the client
    // must give up with the last failure instead of sleeping past it.
    const started = performance.now();
    const failure = await failureOf(client.getServiceInfo({}, { deadlineMs: 3_000 }));

    expect(failure.code).toBe(Code.UNAVAILABLE);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("does not retry with retry: false", async () => {
    const handler = flaky(Code.UNAVAILABLE, 1);
    const { address } = await startServer(cleanup, handler.impl);
    const client = cleanup.client(createGrpcClient(Entitlement, { address, retry: false }));

    expect((await failureOf(client.getServiceInfo({}))).code).toBe(Code.UNAVAILABLE);
    expect(handler.calls()).toBe(1);
  });

  it("keeps one x-request-id across attempts", async () => {
    const requestIds: string[] = [];
    let calls = 0;
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: (_request, ctx) => {
          requestIds.push(ctx.requestId);
          if (++calls === 1) throw new TailorError(Code.UNAVAILABLE, "try again");
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    await client.getServiceInfo({});

    expect(requestIds).toHaveLength(2);
    expect(requestIds[0]).toBe(requestIds[1]);
  });
});

describe("createGrpcClient server streams", () => {
  /** Fails Watch with UNAVAILABLE either before the first message or right after it. */
  function failWatch(when: "before" | "after", times: number) {
    let calls = 0;
    const interceptor: ServerInterceptor = (next) => async (request) => {
      if (request.method.name !== "Watch") return next(request);
      calls++;
      const failing = calls <= times;
      if (failing && when === "before") throw new TailorError(Code.UNAVAILABLE, "not yet");
      const response = await next(request);
      if (!failing || response.kind !== "server_streaming") return response;
      return {
        kind: "server_streaming",
        messages: (async function* () {
          for await (const message of response.messages) {
            yield message;
            throw new TailorError(Code.UNAVAILABLE, "lost the stream");
          }
        })(),
      };
    };
    return { interceptor, calls: () => calls };
  }

  async function statuses(stream: AsyncIterable<healthV1.HealthCheckResponse>, max: number) {
    const seen: number[] = [];
    for await (const response of stream) {
      seen.push(response.status);
      if (seen.length === max) break;
    }
    return seen;
  }

  it("retries a stream that failed before its first message", async () => {
    const failing = failWatch("before", 2);
    const { address } = await startServer(cleanup, entitlementImpl(), {
      interceptors: [failing.interceptor],
    });
    const client = cleanup.client(createGrpcClient(healthV1.Health, { address }));

    expect(await statuses(client.watch({ service: "" }), 1)).toEqual([
      healthV1.HealthCheckResponse_ServingStatus.SERVING,
    ]);
    expect(failing.calls()).toBe(3);
  });

  it("does not retry a stream after its first message", async () => {
    const failing = failWatch("after", 5);
    const { address } = await startServer(cleanup, entitlementImpl(), {
      interceptors: [failing.interceptor],
    });
    const client = cleanup.client(createGrpcClient(healthV1.Health, { address }));

    const seen: number[] = [];
    const failure = await failureOf(
      (async () => {
        for await (const response of client.watch({ service: "" })) seen.push(response.status);
      })(),
    );

    expect(seen).toHaveLength(1);
    expect(failure).toMatchObject({ code: Code.UNAVAILABLE, message: "lost the stream" });
    expect(failing.calls()).toBe(1);
  });

  it("ends the stream at its deadline", async () => {
    const { address } = await startServer(cleanup);
    const client = cleanup.client(createGrpcClient(healthV1.Health, { address }));

    const seen: number[] = [];
    const failure = await failureOf(
      (async () => {
        for await (const response of client.watch({ service: "" }, { deadlineMs: 150 })) {
          seen.push(response.status);
        }
      })(),
    );

    expect(seen).toEqual([healthV1.HealthCheckResponse_ServingStatus.SERVING]);
    expect(failure.code).toBe(Code.DEADLINE_EXCEEDED);
  });
});

describe("createGrpcClient options", () => {
  it("reports a signal from AbortSignal.timeout() as DEADLINE_EXCEEDED", async () => {
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
          return {};
        },
      }),
    );
    const client = cleanup.client(createGrpcClient(Entitlement, { address }));

    const failure = await failureOf(
      client.getServiceInfo({}, { signal: AbortSignal.timeout(100) }),
    );
    expect(failure.code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it("uses defaultDeadlineMs when a call sets none", async () => {
    const { address } = await startServer(
      cleanup,
      entitlementImpl({
        getServiceInfo: async (_request, ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
          return {};
        },
      }),
    );
    const client = cleanup.client(
      createGrpcClient(Entitlement, { address, defaultDeadlineMs: 100 }),
    );

    const started = performance.now();
    expect((await failureOf(client.getServiceInfo({}))).code).toBe(Code.DEADLINE_EXCEEDED);
    // Without the default deadline the call would never end.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("records tailor_grpc_client_handling_seconds per attempt", async () => {
    const registry = new Registry();
    const { address } = await startServer(cleanup, flaky(Code.UNAVAILABLE, 1).impl);
    const client = cleanup.client(createGrpcClient(Entitlement, { address, metrics: registry }));

    await client.getServiceInfo({});

    const text = await registry.metrics();
    const labels = `service="${Entitlement.typeName}",method="GetServiceInfo"`;
    expect(text).toContain(
      `tailor_grpc_client_handling_seconds_count{${labels},code="UNAVAILABLE"} 1`,
    );
    expect(text).toContain(`tailor_grpc_client_handling_seconds_count{${labels},code="OK"} 1`);
  });
});
