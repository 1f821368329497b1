import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { DescMethod, DescService, Message, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import type { CallOptions, Client, ClientCall, ClientRequest } from "./client-call.js";
import { Code } from "./code.js";
import { REQUEST_ID_HEADER } from "./handler-context.js";
import type { RetryPolicy } from "./retry-policy.js";
import { backoff, maySendAgain, retryDelayMs } from "./retry-policy.js";
import { cancellationError, TailorError } from "./tailor-error.js";

/** What every client, network or in-process, does around its transport. */
export interface TypedClientOptions {
  readonly logger: Logger;
  readonly defaultDeadlineMs: number;
  readonly retry: RetryPolicy;
}

/** Default time budget of a call when neither the call nor the client sets one. */
export const DEFAULT_DEADLINE_MS = 10_000;

// Calls without a signal share one that never aborts.
const NEVER_ABORTED = new AbortController().signal;
// Every call without a signal listens on this one; it never fires, so the
// listener count is not a leak.
setMaxListeners(0, NEVER_ABORTED);

/** Node timers overflow past 2^31-1 ms (about 24.8 days); longer deadlines are clamped to it. */
const MAX_DEADLINE_MS = 2 ** 31 - 1;

/**
 * Builds the typed client of a service over a transport (already wrapped in
 * its interceptors): deadlines on every call, retries with backoff, and every
 * failure normalised to TailorError.
 */
export function createTypedClient<S extends DescService>(
  service: S,
  call: ClientCall,
  options: TypedClientOptions,
): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = (
          init: MessageInitShape<typeof method.input>,
          opts?: CallOptions,
        ) => callUnary(method, call, options, init, opts);
        break;
      case "server_streaming":
        client[method.localName] = (
          init: MessageInitShape<typeof method.input>,
          opts?: CallOptions,
        ) => callServerStream(method, call, options, init, opts);
        break;
      default:
        client[method.localName] = () =>
          Promise.reject(
            new TailorError(
              Code.UNIMPLEMENTED,
              `${method.methodKind} rpc ${service.typeName}/${method.name} is not supported by @tailor/grpc`,
            ),
          );
    }
  }
  return client as Client<S>;
}

interface PreparedCall {
  readonly signal: AbortSignal;
  request(attempt: number): ClientRequest;
}

function prepare(
  method: DescMethod,
  options: TypedClientOptions,
  init: MessageInitShape<DescMethod["input"]>,
  callOptions: CallOptions,
): PreparedCall {
  const deadlineMs = Math.min(callOptions.deadlineMs ?? options.defaultDeadlineMs, MAX_DEADLINE_MS);
  const deadline = new Date(Date.now() + deadlineMs);
  const signal = callOptions.signal ?? NEVER_ABORTED;
  const metadata = { ...callOptions.metadata };
  // One id for all attempts, so the server's log lines for them can be joined with the caller's.
  metadata[REQUEST_ID_HEADER] ??= randomUUID();
  const message = create(method.input, init);
  const logger = options.logger.child({
    method: `${method.parent.typeName}/${method.name}`,
    requestId: metadata[REQUEST_ID_HEADER],
  });
  return {
    signal,
    request: (attempt) => {
      if (signal.aborted) throw cancellationError(signal);
      return { method, message, metadata: { ...metadata }, deadline, signal, attempt, logger };
    },
  };
}

async function callUnary(
  method: DescMethod,
  call: ClientCall,
  options: TypedClientOptions,
  init: MessageInitShape<DescMethod["input"]>,
  callOptions: CallOptions = {},
): Promise<Message> {
  const prepared = prepare(method, options, init, callOptions);
  for (let attempt = 1; ; attempt++) {
    const request = prepared.request(attempt);
    try {
      const response = await call(request);
      if (response.kind !== "unary") throw wrongKind(method);
      return response.message;
    } catch (err) {
      const error = TailorError.from(err);
      const delay = maySendAgain(method, error)
        ? retryDelayMs(options.retry, attempt, error.code, request.deadline)
        : undefined;
      if (delay === undefined) throw error;
      await backoff(delay, prepared.signal);
    }
  }
}

async function* callServerStream(
  method: DescMethod,
  call: ClientCall,
  options: TypedClientOptions,
  init: MessageInitShape<DescMethod["input"]>,
  callOptions: CallOptions = {},
): AsyncIterable<Message> {
  const prepared = prepare(method, options, init, callOptions);
  for (let attempt = 1; ; attempt++) {
    const request = prepared.request(attempt);
    let received = false;
    try {
      const response = await call(request);
      if (response.kind !== "server_streaming") throw wrongKind(method);
      for await (const message of response.messages) {
        received = true;
        yield message;
      }
      return;
    } catch (err) {
      const error = TailorError.from(err);
      // Once the caller has seen messages a retry would replay them, so only a stream that never started is retried.
      const delay =
        received || !maySendAgain(method, error)
          ? undefined
          : retryDelayMs(options.retry, attempt, error.code, request.deadline);
      if (delay === undefined) throw error;
      await backoff(delay, prepared.signal);
    }
  }
}

function wrongKind(method: DescMethod): TailorError {
  return new TailorError(
    Code.INTERNAL,
    `a client interceptor answered ${method.methodKind} rpc ${method.name} with the wrong kind of response`,
  );
}
