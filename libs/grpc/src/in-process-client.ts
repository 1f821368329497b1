import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import { createSilentLogger } from "@tailor/log";
import type { Registry } from "prom-client";
import type { Client, ClientCall } from "./client-call.js";
import { Code } from "./code.js";
import { roundTrip } from "./codec.js";
import type { ActiveCall } from "./handler-context.js";
import { recordMetadata, startCall } from "./handler-context.js";
import type { RetryPolicy } from "./retry-policy.js";
import { resolveRetryPolicy } from "./retry-policy.js";
import type { ServerCall, ServerInterceptor, ServiceImpl } from "./server-call.js";
import { applyServerInterceptors, assertServiceImpl, createHandlerCall } from "./server-call.js";
import { serverLoggingInterceptor, serverMetricsInterceptor } from "./server-interceptors.js";
import { cancellationError, toWireError } from "./tailor-error.js";
import { createTypedClient, DEFAULT_DEADLINE_MS } from "./typed-client.js";

/** Options for {@link createInProcessClient}. */
export interface InProcessClientOptions {
  /** Parent of the handlers' child loggers. @default a silent logger */
  logger?: Logger;
  /** Server interceptors, run inside the built-in logging (and metrics) ones as on a real server. */
  interceptors?: readonly ServerInterceptor[];
  /** Registry for `tailor_grpc_server_*` metrics; without one none are recorded. */
  metrics?: Registry;
  /** Time budget of a call that sets no `deadlineMs`. @default 10000 */
  defaultDeadlineMs?: number;
  /** Retry policy, as for the network client. @default DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicy> | false;
}

/**
 * Creates a client that calls the implementation directly, for unit tests of
 * handler logic without a network. It behaves like the wire: messages are
 * encoded and decoded, the server interceptors run, deadlines and
 * cancellation abort `ctx.signal`, retries apply, and errors arrive as the
 * caller would see them (code, message, reason, field, metadata; no cause).
 */
export function createInProcessClient<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  options: InProcessClientOptions = {},
): Client<S> & { close(): void } {
  assertServiceImpl(service, impl);
  const logger = options.logger ?? createSilentLogger();
  const serverCall = applyServerInterceptors(createHandlerCall(impl), [
    serverLoggingInterceptor,
    ...(options.metrics === undefined ? [] : [serverMetricsInterceptor(options.metrics)]),
    ...(options.interceptors ?? []),
  ]);
  const client = createTypedClient(service, inProcessTransport(serverCall, logger), {
    logger,
    defaultDeadlineMs: options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS,
    retry: resolveRetryPolicy(options.retry),
  });
  // Nothing to release; present so the in-process client can stand in for a network one.
  return Object.assign(client, { close: () => {} });
}

function inProcessTransport(serverCall: ServerCall, logger: Logger): ClientCall {
  return async (request) => {
    const { method } = request;
    const active = startCall({
      method,
      metadata: recordMetadata(request.metadata),
      deadline: request.deadline,
      peer: "in-process",
      logger,
    });
    const onCallerAbort = () => {
      const error = cancellationError(request.signal);
      active.abort(error.code, error.message);
    };
    if (request.signal.aborted) onCallerAbort();
    else request.signal.addEventListener("abort", onCallerAbort, { once: true });
    const finish = () => {
      request.signal.removeEventListener("abort", onCallerAbort);
      active.finish();
    };
    const signal = active.ctx.signal;
    try {
      const message = roundTrip(method.input, request.message);
      // Like a real client, stop waiting at the deadline even if the handler ignores its signal.
      const response = await untilAborted(serverCall({ method, message, ctx: active.ctx }), signal);
      if (response.kind === "unary") {
        finish();
        return { kind: "unary", message: roundTrip(method.output, response.message) };
      }
      return {
        kind: "server_streaming",
        messages: relay(response.messages, method, active, finish),
      };
    } catch (err) {
      finish();
      throw toWireError(err);
    }
  };
}

async function* relay(
  messages: AsyncIterable<Message>,
  method: DescMethod,
  active: ActiveCall,
  finish: () => void,
): AsyncIterable<Message> {
  const iterator = messages[Symbol.asyncIterator]();
  const signal = active.ctx.signal;
  let completed = false;
  try {
    for (;;) {
      const next = await untilAborted(iterator.next(), signal);
      if (next.done === true) {
        completed = true;
        return;
      }
      yield roundTrip(method.output, next.value);
    }
  } catch (err) {
    completed = true;
    throw toWireError(err);
  } finally {
    if (!completed || signal.aborted) {
      // The caller went away (or gave up): the handler sees a cancellation, as over the network.
      active.abort(Code.CANCELLED, "the caller cancelled the call");
      iterator.return?.().catch(() => {});
    }
    finish();
  }
}

/** Settles like `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
