import type {
  DescMessage,
  DescMethod,
  DescService,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import type { CallResponse } from "./call-observer.js";
import { applyInterceptors } from "./call-observer.js";

/** Per-call options of a client method. */
export interface CallOptions {
  /** Time budget of the whole call, retries included. @default the client's defaultDeadlineMs */
  deadlineMs?: number;
  /** Aborting it cancels the call (CANCELLED; DEADLINE_EXCEEDED for `AbortSignal.timeout()`). */
  signal?: AbortSignal;
  /** Headers to send; values of keys ending in "-bin" are base64. An `x-request-id` is added when missing. */
  metadata?: Record<string, string>;
}

/** The client function for one method descriptor; `never` for client and bidi streaming, which are not supported yet. */
export type ClientMethod<M> = M extends {
  methodKind: "unary";
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
  : M extends {
        methodKind: "server_streaming";
        input: infer I extends DescMessage;
        output: infer O extends DescMessage;
      }
    ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
    : never;

/**
 * A typed client of a service: one function per method, keyed by the
 * method's `localName`. Unary methods resolve to the response; server
 * streams are async iterables (the call starts when iteration starts).
 * Failures are always thrown as TailorError.
 */
export type Client<S extends DescService> = {
  readonly [K in keyof S["method"]]: ClientMethod<S["method"][K]>;
};

/** One attempt of an outgoing call as client interceptors see it. */
export interface ClientRequest {
  /** The method being called; `method.parent` is its service. */
  readonly method: DescMethod;
  /** The request message. */
  readonly message: Message;
  /** Headers to send; interceptors may add to them (each attempt gets its own copy). */
  readonly metadata: Record<string, string>;
  /** When the whole call, retries included, must be done. */
  readonly deadline: Date;
  /** The caller's signal. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** The client's logger with `method` and `requestId`. */
  readonly logger: Logger;
}

/** The response of one attempt as client interceptors see it, by method kind. */
export type ClientResponse = CallResponse;

/** A step that performs one attempt of a call: the transport, or an interceptor around it. Failures are thrown. */
export type ClientCall = (request: ClientRequest) => Promise<ClientResponse>;

/**
 * Wraps a client call, connect-es style. Interceptors run once per attempt
 * (retries happen outside them); the first in a list is the outermost.
 */
export type ClientInterceptor = (next: ClientCall) => ClientCall;

/** Applies interceptors so that the first in the list runs first (outermost). */
export function applyClientInterceptors(
  call: ClientCall,
  interceptors: readonly ClientInterceptor[],
): ClientCall {
  return applyInterceptors(call, interceptors);
}
