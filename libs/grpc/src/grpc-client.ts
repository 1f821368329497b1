import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import type { ChannelCredentials, ChannelOptions, ClientReadableStream } from "@grpc/grpc-js";
import { credentials as channelCredentials, Client as GrpcJsClient, Metadata } from "@grpc/grpc-js";
import type { Logger } from "@tailor/log";
import { createSilentLogger } from "@tailor/log";
import type { Registry } from "prom-client";
import type { Client, ClientCall, ClientInterceptor, ClientRequest } from "./client-call.js";
import { applyClientInterceptors } from "./client-call.js";
import { clientLoggingInterceptor, clientMetricsInterceptor } from "./client-interceptors.js";
import { Code } from "./code.js";
import { deserializer, serializer } from "./codec.js";
import type { RetryPolicy } from "./retry-policy.js";
import { resolveRetryPolicy } from "./retry-policy.js";
import { cancellationError, TailorError } from "./tailor-error.js";
import { createTypedClient, DEFAULT_DEADLINE_MS } from "./typed-client.js";

/** Options for {@link createGrpcClient}. */
export interface GrpcClientOptions {
  /** Server address, e.g. "127.0.0.1:50051" or "dns:///catalog:50051". */
  address: string;
  /** Logger for per-attempt call logs (debug, warn on trouble). @default a silent logger */
  logger?: Logger;
  /** Time budget of a call that sets no `deadlineMs`. @default 10000 */
  defaultDeadlineMs?: number;
  /** Retry policy overrides, or false to never retry. @default DEFAULT_RETRY_POLICY */
  retry?: Partial<RetryPolicy> | false;
  /** Interceptors run per attempt inside the built-in logging (and metrics) ones, first in the list outermost. */
  interceptors?: readonly ClientInterceptor[];
  /** Registry for `tailor_grpc_client_*` metrics; without one no client metrics are recorded. */
  metrics?: Registry;
  /** Transport security. @default insecure (plain HTTP/2) */
  credentials?: ChannelCredentials;
  /** Raw grpc-js channel options (keepalive, message size limits...). */
  channelOptions?: ChannelOptions;
}

/**
 * Creates a typed client of a service over one grpc-js channel. Every call
 * has a deadline, UNAVAILABLE is retried with jittered backoff, and failures
 * are thrown as TailorError. `close()` releases the channel.
 */
export function createGrpcClient<S extends DescService>(
  service: S,
  options: GrpcClientOptions,
): Client<S> & { close(): void } {
  const channel = new GrpcJsClient(
    options.address,
    options.credentials ?? channelCredentials.createInsecure(),
    options.channelOptions ?? {},
  );
  const interceptors = [
    clientLoggingInterceptor,
    ...(options.metrics === undefined ? [] : [clientMetricsInterceptor(options.metrics)]),
    ...(options.interceptors ?? []),
  ];
  const client = createTypedClient(
    service,
    applyClientInterceptors(grpcTransport(channel), interceptors),
    {
      logger: options.logger ?? createSilentLogger(),
      defaultDeadlineMs: options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS,
      retry: resolveRetryPolicy(options.retry),
    },
  );
  return Object.assign(client, { close: () => channel.close() });
}

/** The innermost client call: one attempt over the grpc-js channel. */
function grpcTransport(channel: GrpcJsClient): ClientCall {
  return async (request) => {
    const { method } = request;
    if (request.signal.aborted) throw cancellationError(request.signal);
    switch (method.methodKind) {
      case "unary":
        return { kind: "unary", message: await unary(channel, request) };
      case "server_streaming":
        return { kind: "server_streaming", messages: serverStream(channel, request) };
      default:
        throw new TailorError(
          Code.UNIMPLEMENTED,
          `${method.methodKind} rpc ${method.parent.typeName}/${method.name} is not supported by @tailor/grpc`,
        );
    }
  };
}

function unary(channel: GrpcJsClient, request: ClientRequest): Promise<Message> {
  const { method, signal } = request;
  return new Promise((resolve, reject) => {
    const call = channel.makeUnaryRequest(
      path(method),
      serializer(method.input),
      deserializer(method.output),
      request.message,
      toGrpcMetadata(request.metadata),
      { deadline: request.deadline },
      (err, response) => {
        signal.removeEventListener("abort", onAbort);
        if (err !== null) {
          // grpc-js only says "Cancelled on client"; the caller's own reason says more.
          reject(signal.aborted ? cancellationError(signal) : TailorError.from(err));
        } else if (response === undefined) {
          reject(new TailorError(Code.INTERNAL, `rpc ${method.name} returned no response`));
        } else {
          resolve(response);
        }
      },
    );
    const onAbort = () => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function* serverStream(
  channel: GrpcJsClient,
  request: ClientRequest,
): AsyncIterable<Message> {
  const { method, signal } = request;
  const stream: ClientReadableStream<Message> = channel.makeServerStreamRequest(
    path(method),
    serializer(method.input),
    deserializer(method.output),
    request.message,
    toGrpcMetadata(request.metadata),
    { deadline: request.deadline },
  );
  const onAbort = () => stream.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    for await (const message of stream) yield message as Message;
    finished = true;
  } catch (err) {
    finished = true;
    throw signal.aborted ? cancellationError(signal) : TailorError.from(err);
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!finished) {
      // The consumer stopped early: cancel the call so the server stops producing.
      stream.on("error", () => {});
      stream.cancel();
    }
  }
}

function path(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function toGrpcMetadata(record: Readonly<Record<string, string>>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(record)) {
    const name = key.toLowerCase();
    metadata.set(name, name.endsWith("-bin") ? Buffer.from(value, "base64") : value);
  }
  return metadata;
}
