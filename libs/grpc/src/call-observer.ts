import type { Message } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import { TailorError } from "./tailor-error.js";

/**
 * Passes a stream through and calls `onEnd` exactly once: with no error when
 * it completes, with the error it failed with, or with CANCELLED when the
 * consumer stopped early. Interceptors use it to time and log streams.
 */
export async function* observeStream<T>(
  source: AsyncIterable<T>,
  onEnd: (error: unknown) => void,
): AsyncIterable<T> {
  let ended = false;
  const end = (error: unknown): void => {
    if (ended) return;
    ended = true;
    onEnd(error);
  };
  try {
    yield* source;
    end(undefined);
  } catch (err) {
    end(err);
    throw err;
  } finally {
    end(new TailorError(Code.CANCELLED, "stream closed before it completed"));
  }
}

/** A unary or server-streaming response; server and client responses share this shape. */
export type CallResponse =
  | { readonly kind: "unary"; readonly message: Message }
  | { readonly kind: "server_streaming"; readonly messages: AsyncIterable<Message> };

/** Calls `onEnd` once the response is complete: now for unary, at stream end for streams. */
export function onResponseEnd<R extends CallResponse>(
  response: R,
  onEnd: (error: unknown) => void,
): R {
  if (response.kind === "unary") {
    onEnd(undefined);
    return response;
  }
  return { ...response, messages: observeStream(response.messages, onEnd) };
}

/**
 * Runs `call` and calls `onEnd` once when its response is complete, or with
 * the error it failed with. Logging and metrics interceptors, on either side,
 * are this plus what they do in `onEnd`.
 */
export async function observeCall<R extends CallResponse>(
  call: () => Promise<R>,
  onEnd: (error: unknown) => void,
): Promise<R> {
  try {
    return onResponseEnd(await call(), onEnd);
  } catch (err) {
    onEnd(err);
    throw err;
  }
}

/** The status code a call ended with: OK, or the code of the error it failed with. */
export function endCode(error: unknown): Code {
  return error === undefined ? Code.OK : TailorError.from(error).code;
}

/**
 * Chains interceptors, connect-es style, so the first in the list runs first
 * (outermost). Client and server interceptors share this shape.
 */
export function applyInterceptors<C>(call: C, interceptors: readonly ((next: C) => C)[]): C {
  return interceptors.reduceRight((next, interceptor) => interceptor(next), call);
}
