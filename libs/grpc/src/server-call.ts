import type {
  DescMessage,
  DescMethod,
  DescService,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import type { CallResponse } from "./call-observer.js";
import { applyInterceptors } from "./call-observer.js";
import { Code } from "./code.js";
import { TailorError } from "./tailor-error.js";

/** Read access to the metadata (headers) a caller sent. */
export interface RequestMetadata {
  /** The first value of a header, keys compared case-insensitively; binary values come base64-encoded. */
  get(key: string): string | undefined;
}

/** What a handler knows about the call it is serving besides the request message. */
export interface HandlerContext {
  /** Headers the caller sent. */
  readonly metadata: RequestMetadata;
  /** Aborted when the caller cancels, the deadline passes or the server is forced down; the reason is a TailorError. */
  readonly signal: AbortSignal;
  /** When the caller stops waiting, if it set a deadline. */
  readonly deadline?: Date;
  /** The caller's address, e.g. "127.0.0.1:53412" ("in-process" for the in-process transport). */
  readonly peer: string;
  /** Child logger carrying `requestId` and `method`. */
  readonly logger: Logger;
  /** The caller's `x-request-id` header, or a fresh UUID when it sent none. */
  readonly requestId: string;
}

type UnaryMethodImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

type ServerStreamingMethodImpl<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => AsyncIterable<MessageInitShape<O>>;

/** The handler type for one method descriptor; `never` for client and bidi streaming, which are not supported yet. */
export type MethodImpl<M> = M extends {
  methodKind: "unary";
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? UnaryMethodImpl<I, O>
  : M extends {
        methodKind: "server_streaming";
        input: infer I extends DescMessage;
        output: infer O extends DescMessage;
      }
    ? ServerStreamingMethodImpl<I, O>
    : never;

type SupportedMethodKeys<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends { methodKind: "unary" | "server_streaming" }
    ? K
    : never;
}[keyof S["method"]];

/**
 * The implementation of a service: one handler per method, keyed by the
 * method's `localName` (e.g. `getServiceInfo`). Unary handlers return (or
 * resolve to) the response init; server-streaming handlers return an async
 * iterable of them. Client and bidi streaming methods cannot be implemented
 * yet and answer UNIMPLEMENTED.
 */
export type ServiceImpl<S extends DescService> = {
  [K in SupportedMethodKeys<S>]: MethodImpl<S["method"][K]>;
} & {
  [K in Exclude<keyof S["method"], SupportedMethodKeys<S>>]?: never;
};

/** One incoming call as server interceptors see it. */
export interface ServerRequest {
  /** The method being called; `method.parent` is its service. */
  readonly method: DescMethod;
  /** The decoded request message. */
  readonly message: Message;
  /** The context the handler will receive. */
  readonly ctx: HandlerContext;
}

/** The outcome of a call as server interceptors see it, by method kind. */
export type ServerResponse = CallResponse;

/** A step that serves a call: the handler itself, or an interceptor around it. Failures are thrown. */
export type ServerCall = (request: ServerRequest) => Promise<ServerResponse>;

/**
 * Wraps a server call, connect-es style: `(next) => async (request) => { ...; return next(request); }`.
 * The first interceptor in a list is the outermost.
 */
export type ServerInterceptor = (next: ServerCall) => ServerCall;

/** Applies interceptors so that the first in the list runs first (outermost). */
export function applyServerInterceptors(
  call: ServerCall,
  interceptors: readonly ServerInterceptor[],
): ServerCall {
  return applyInterceptors(call, interceptors);
}

/** Checks an implementation against its descriptor, naming the first missing handler. */
export function assertServiceImpl(service: DescService, impl: object): void {
  for (const method of service.methods) {
    if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") continue;
    const handler = (impl as Record<string, unknown>)[method.localName];
    if (typeof handler !== "function") {
      throw new TypeError(
        `implementation of ${service.typeName} has no handler "${method.localName}" for rpc ${method.name}`,
      );
    }
  }
}

/**
 * The innermost server call: invokes the user's handler for the method and
 * turns the init objects it returns into real messages.
 */
export function createHandlerCall(impl: object): ServerCall {
  const handlers = impl as Record<string, unknown>;
  return async ({ method, message, ctx }) => {
    const handler = handlers[method.localName];
    if (
      typeof handler !== "function" ||
      (method.methodKind !== "unary" && method.methodKind !== "server_streaming")
    ) {
      throw new TailorError(
        Code.UNIMPLEMENTED,
        `${method.methodKind} rpc ${method.parent.typeName}/${method.name} is not implemented`,
      );
    }
    const output = method.output;
    if (method.methodKind === "unary") {
      const init = (await handler.call(impl, message, ctx)) as MessageInitShape<DescMessage>;
      return { kind: "unary", message: create(output, init) };
    }
    const inits = handler.call(impl, message, ctx) as AsyncIterable<MessageInitShape<DescMessage>>;
    return { kind: "server_streaming", messages: mapStream(inits, (init) => create(output, init)) };
  };
}

async function* mapStream<T, U>(source: AsyncIterable<T>, map: (item: T) => U): AsyncIterable<U> {
  for await (const item of source) yield map(item);
}
