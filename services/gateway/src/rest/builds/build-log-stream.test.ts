import { create } from "@bufbuild/protobuf";
import type { CallOptions } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import { builderV1, historyV1 } from "@tailor/proto";
import type { FastifyInstance } from "fastify";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayDependencies } from "../../gateway-dependencies.js";
import { sendBuildLogStream } from "./build-log-stream.js";

/** A promise with its resolve function. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

const RUNNING = create(builderV1.BuildSchema, {
  id: "0195f2c4-1b2a-7000-8000-000000000001",
  orgId: "0195f2c4-1b2a-7000-8000-000000000002",
  customImage: "tools",
  revision: 1,
  status: builderV1.BuildStatus.RUNNING,
});

/**
 * A history whose build never ends: its tail sends `lines` lines, then waits
 * until the call is cancelled. Records how many tails were started and how
 * many were cancelled.
 */
function endlessHistory(lines: number) {
  const tails = { started: 0, cancelled: 0 };
  const history = {
    tailBuildLog(_request: unknown, options: CallOptions) {
      tails.started++;
      return (async function* () {
        for (let seq = 1; seq <= lines; seq++) {
          yield create(historyV1.TailBuildLogResponseSchema, {
            line: { seq: BigInt(seq), level: "info", step: "build", text: `line ${seq}` },
          });
        }
        await new Promise<void>((resolve) => {
          if (options.signal?.aborted) resolve();
          options.signal?.addEventListener("abort", () => resolve(), { once: true });
        });
        tails.cancelled++;
        throw new TailorError(Code.CANCELLED, "the caller cancelled the call");
      })();
    },
  };
  return { tails, deps: { history } as unknown as GatewayDependencies };
}

describe("sendBuildLogStream", () => {
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("starts no log tail for a client that left before the stream began", async () => {
    const { tails, deps } = endlessHistory(0);
    const entered = deferred();
    const left = deferred();
    const over = deferred();
    app = Fastify({ forceCloseConnections: true });
    app.get("/stream", async (request, reply) => {
      request.raw.socket.once("close", () => left.resolve());
      entered.resolve();
      // The build is looked up meanwhile; the client leaves.
      await left.promise;
      await sendBuildLogStream({ deps, request, reply, build: RUNNING, metadata: {} });
      over.resolve();
      return reply;
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    const client = new AbortController();
    const answered = fetch(`${url}/stream`, { signal: client.signal }).catch(() => undefined);
    await entered.promise;
    client.abort();
    await answered;
    await over.promise;
    expect(tails.started - tails.cancelled).toBe(0);
  });

  it("stops the log tail when the client leaves mid-stream", async () => {
    const { tails, deps } = endlessHistory(1);
    const over = deferred();
    app = Fastify({ forceCloseConnections: true });
    app.get("/stream", async (request, reply) => {
      await sendBuildLogStream({ deps, request, reply, build: RUNNING, metadata: {} });
      over.resolve();
      return reply;
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    const client = new AbortController();
    const response = await fetch(`${url}/stream`, { signal: client.signal });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    let text = "";
    const decoder = new TextDecoder();
    while (!text.includes("event: line")) {
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    expect(text).toMatch(/^retry: \d+$/m);
    expect(text).toContain('"text":"line 1"');
    client.abort();
    await over.promise;
    expect(tails).toEqual({ started: 1, cancelled: 1 });
  });
});
