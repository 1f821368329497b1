import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  MethodDefinition,
  ServerCredentials,
  ServerOptions,
  ServerUnaryCall,
  ServerWritableStream,
  StatusObject,
  UntypedHandleCall,
} from "@grpc/grpc-js";
import { ServerCredentials as Credentials, Metadata, Server } from "@grpc/grpc-js";
import type { Logger } from "@tailor/log";
import { healthV1 } from "@tailor/proto";
import { Registry } from "prom-client";
import { Code } from "./code.js";
import { deserializer, serializer } from "./codec.js";
import type { ActiveCall } from "./handler-context.js";
import { startCall } from "./handler-context.js";
import type { HealthReporter } from "./health-reporter.js";
import { HealthState } from "./health-reporter.js";
import type { RequestMetadata, ServerCall, ServerInterceptor, ServiceImpl } from "./server-call.js";
import { applyServerInterceptors, assertServiceImpl, createHandlerCall } from "./server-call.js";
import { serverLoggingInterceptor, serverMetricsInterceptor } from "./server-interceptors.js";
import {
  ERROR_DETAIL_TRAILER,
  encodeErrorDetail,
  MAX_STATUS_MESSAGE_LENGTH,
  shortened,
  TailorError,
  toWireError,
} from "./tailor-error.js";

/** Options for {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** Parent of every call's child logger. */
  logger: Logger;
  /** Interceptors run inside the built-in logging and metrics ones, first in the list outermost. */
  interceptors?: readonly ServerInterceptor[];
  /** Registry for `tailor_grpc_server_*` metrics. @default a new Registry, exposed as `server.metrics` */
  metrics?: Registry;
  /** How long {@link GrpcServer.shutdown} waits for in-flight calls before cutting them off. @default 5000 */
  shutdownGraceMs?: number;
  /** Transport security. @default insecure (plain HTTP/2) */
  credentials?: ServerCredentials;
  /** Raw grpc-js server options (message size limits, keepalive...). */
  serverOptions?: ServerOptions;
}

/** A gRPC server with standard health checks, logging and metrics built in. */
export interface GrpcServer {
  /** Registers a service; its health entry turns SERVING once the server listens. */
  add<S extends DescService>(service: S, impl: ServiceImpl<S>): this;
  /** Statuses answered by the grpc.health.v1.Health service the server always includes. */
  readonly health: HealthReporter;
  /** The registry the built-in metrics interceptor records into. */
  readonly metrics: Registry;
  /** Binds and starts serving, e.g. on "127.0.0.1:0"; resolves with the bound address and port. */
  listen(address: string): Promise<{ address: string; port: number }>;
  /**
   * Marks every service NOT_SERVING, stops accepting calls, lets in-flight
   * calls finish for up to `graceMs`, then cuts off the rest. Idempotent.
   */
  shutdown(options?: { graceMs?: number }): Promise<void>;
}

/** A server was used in a way its lifecycle does not allow (listen twice, add after shutdown...). */
export class GrpcServerError extends Error {
  override readonly name = "GrpcServerError";
}

const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
const FORCE_SHUTDOWN_ANSWER_MS = 20;

/**
 * Creates a gRPC server that serves protobuf-es service descriptors. It always
 * includes grpc.health.v1.Health, and wraps every call in
 * {@link serverLoggingInterceptor} then {@link serverMetricsInterceptor},
 * then the given interceptors.
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  return new TailorGrpcServer(options);
}

class TailorGrpcServer implements GrpcServer {
  readonly health = new HealthState();
  readonly metrics: Registry;
  readonly #server: Server;
  readonly #logger: Logger;
  readonly #interceptors: readonly ServerInterceptor[];
  readonly #graceMs: number;
  readonly #credentials: ServerCredentials;
  readonly #services = new Set<string>();
  readonly #inFlight = new Set<ActiveCall>();
  #listening = false;
  #shutdown: Promise<void> | undefined;

  constructor(options: GrpcServerOptions) {
    this.#logger = options.logger;
    this.metrics = options.metrics ?? new Registry();
    this.#graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.#credentials = options.credentials ?? Credentials.createInsecure();
    this.#interceptors = [
      serverLoggingInterceptor,
      serverMetricsInterceptor(this.metrics),
      ...(options.interceptors ?? []),
    ];
    this.#server = new Server(options.serverOptions);
    this.#register(healthV1.Health, this.health.service());
  }

  add<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    if (this.#shutdown !== undefined) {
      throw new GrpcServerError(`cannot add ${service.typeName}: the server is shutting down`);
    }
    if (this.#services.has(service.typeName) || service.typeName === healthV1.Health.typeName) {
      throw new GrpcServerError(`service ${service.typeName} is already added`);
    }
    assertServiceImpl(service, impl);
    this.#register(service, impl);
    this.#services.add(service.typeName);
    this.health.set(service.typeName, this.#listening ? "SERVING" : "NOT_SERVING");
    return this;
  }

  async listen(address: string): Promise<{ address: string; port: number }> {
    if (this.#shutdown !== undefined) throw new GrpcServerError("the server is shut down");
    if (this.#listening) throw new GrpcServerError("the server is already listening");
    const port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, this.#credentials, (err, boundPort) => {
        if (err === null) resolve(boundPort);
        else
          reject(
            new GrpcServerError(`cannot listen on ${address}: ${err.message}`, { cause: err }),
          );
      });
    });
    this.#listening = true;
    this.health.set("", "SERVING");
    for (const service of this.#services) this.health.set(service, "SERVING");
    const bound = withPort(address, port);
    this.#logger.info({ address: bound, services: [...this.#services] }, "grpc server listening");
    return { address: bound, port };
  }

  shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.#shutdown ??= this.#drain(options.graceMs ?? this.#graceMs);
    return this.#shutdown;
  }

  async #drain(graceMs: number): Promise<void> {
    // NOT_SERVING first, so Watch streams tell load balancers before the port closes; they then end.
    this.health.shutdown();
    if (!this.#listening) {
      this.#server.forceShutdown();
      return;
    }
    this.#logger.info({ graceMs, inFlight: this.#inFlight.size }, "grpc server shutting down");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#logger.warn(
          { graceMs, inFlight: this.#inFlight.size },
          "grace period over; cancelling in-flight calls",
        );
        for (const call of this.#inFlight)
          call.abort(Code.UNAVAILABLE, "the server is shutting down");
        // A moment for handlers that honour their signal to answer UNAVAILABLE, which callers
        // retry elsewhere; calls cut by forceShutdown only see CANCELLED.
        setTimeout(() => {
          this.#server.forceShutdown();
          resolve();
        }, FORCE_SHUTDOWN_ANSWER_MS);
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#logger.info("grpc server stopped");
  }

  #register(service: DescService, impl: object): void {
    const call = applyServerInterceptors(createHandlerCall(impl), this.#interceptors);
    const definition: Record<string, MethodDefinition<Message, Message>> = {};
    const handlers: Record<string, UntypedHandleCall> = {};
    for (const method of service.methods) {
      definition[method.localName] = methodDefinition(method);
      handlers[method.localName] = this.#handler(method, call);
    }
    this.#server.addService(definition, handlers);
  }

  #handler(method: DescMethod, call: ServerCall): UntypedHandleCall {
    switch (method.methodKind) {
      case "unary":
        return this.#unaryHandler(method, call);
      case "server_streaming":
        return this.#serverStreamingHandler(method, call);
      case "client_streaming": {
        const handler: handleClientStreamingCall<Message, Message> = (_stream, callback) =>
          callback(unimplemented(method));
        return handler;
      }
      case "bidi_streaming": {
        const handler: handleBidiStreamingCall<Message, Message> = (stream) =>
          stream.emit("error", unimplemented(method));
        return handler;
      }
    }
  }

  #unaryHandler(method: DescMethod, call: ServerCall): handleUnaryCall<Message, Message> {
    return (grpcCall, callback) => {
      const active = this.#start(method, grpcCall);
      void (async () => {
        try {
          const response = await call({ method, message: grpcCall.request, ctx: active.ctx });
          if (response.kind !== "unary") throw kindMismatch(method);
          callback(null, response.message);
        } catch (err) {
          callback(toStatus(err));
        } finally {
          this.#end(active);
        }
      })();
    };
  }

  #serverStreamingHandler(
    method: DescMethod,
    call: ServerCall,
  ): handleServerStreamingCall<Message, Message> {
    return (stream) => {
      const active = this.#start(method, stream);
      void (async () => {
        try {
          const response = await call({ method, message: stream.request, ctx: active.ctx });
          if (response.kind !== "server_streaming") throw kindMismatch(method);
          await writeStream(stream, response.messages, active.ctx.signal);
        } catch (err) {
          if (!stream.cancelled) stream.emit("error", toStatus(err));
        } finally {
          this.#end(active);
        }
      })();
    };
  }

  #start(method: DescMethod, grpcCall: IncomingCall): ActiveCall {
    const deadline = deadlineOf(grpcCall);
    const active = startCall({
      method,
      metadata: grpcMetadata(grpcCall.metadata),
      deadline,
      peer: grpcCall.getPeer(),
      logger: this.#logger,
    });
    grpcCall.on("cancelled", () => {
      // grpc-js reports a passed deadline as a cancellation too; tell the handler which one it was.
      if (deadline !== undefined && Date.now() >= deadline.getTime()) {
        active.abort(Code.DEADLINE_EXCEEDED, "deadline exceeded");
      } else {
        active.abort(Code.CANCELLED, "the caller cancelled the call");
      }
    });
    this.#inFlight.add(active);
    return active;
  }

  #end(active: ActiveCall): void {
    active.finish();
    this.#inFlight.delete(active);
  }
}

/** A call grpc-js hands to a unary or server-streaming handler. */
type IncomingCall = ServerUnaryCall<Message, Message> | ServerWritableStream<Message, Message>;

/** Writes a response stream with back-pressure, stopping when the caller goes away. */
async function writeStream(
  stream: ServerWritableStream<Message, Message>,
  messages: AsyncIterable<Message>,
  signal: AbortSignal,
): Promise<void> {
  for await (const message of messages) {
    if (signal.aborted || stream.cancelled) break; // leaving the loop stops the handler's iterable
    if (!stream.write(message)) await drained(stream, signal);
  }
  // A handler that honours its signal just stops yielding; ending normally
  // would tell the caller a truncated stream was complete.
  if (signal.aborted && !stream.cancelled) throw signal.reason;
  if (!stream.cancelled) stream.end();
}

function drained(
  stream: ServerWritableStream<Message, Message>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    stream.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

function methodDefinition(method: DescMethod): MethodDefinition<Message, Message> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream:
      method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream:
      method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    requestDeserialize: deserializer(method.input),
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
    originalName: method.name,
  };
}

/** The status grpc-js should send for anything a handler threw, with the ErrorDetail trailer. */
function toStatus(err: unknown): Partial<StatusObject> {
  const error = toWireError(err);
  const metadata = new Metadata();
  const detail = encodeErrorDetail(error);
  if (detail !== undefined) {
    metadata.set(
      ERROR_DETAIL_TRAILER,
      Buffer.from(detail.buffer, detail.byteOffset, detail.byteLength),
    );
  }
  // OK with no response would leave the caller with a confusing "no message" error.
  const code = error.code === Code.OK ? Code.UNKNOWN : error.code;
  return { code, details: shortened(error.message, MAX_STATUS_MESSAGE_LENGTH), metadata };
}

function unimplemented(method: DescMethod): Partial<StatusObject> {
  return {
    code: Code.UNIMPLEMENTED,
    details: `${method.methodKind} rpc ${method.parent.typeName}/${method.name} is not supported by @tailor/grpc`,
  };
}

function kindMismatch(method: DescMethod): TailorError {
  return new TailorError(
    Code.INTERNAL,
    `an interceptor answered ${method.methodKind} rpc ${method.name} with the wrong kind of response`,
  );
}

function deadlineOf(call: IncomingCall): Date | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function grpcMetadata(metadata: Metadata): RequestMetadata {
  return {
    get(key) {
      const value = metadata.get(key.toLowerCase())[0];
      if (value === undefined) return undefined;
      return typeof value === "string" ? value : value.toString("base64");
    },
  };
}

/** "127.0.0.1:0" bound to 50123 → "127.0.0.1:50123"; unix socket addresses stay as they are. */
function withPort(address: string, port: number): string {
  if (address.startsWith("unix:")) return address;
  const colon = address.lastIndexOf(":");
  return `${colon === -1 ? address : address.slice(0, colon)}:${port}`;
}
