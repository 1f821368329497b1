import { randomUUID } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import { Code } from "./code.js";
import type { HandlerContext, RequestMetadata } from "./server-call.js";
import { TailorError } from "./tailor-error.js";

/** Header that carries a request id across services so their log lines can be joined. */
export const REQUEST_ID_HEADER = "x-request-id";

// Long enough for any UUID or trace id, short enough that a caller cannot bloat every log line.
const MAX_REQUEST_ID_LENGTH = 128;

/** A handler context plus the means to cancel it, owned by whoever serves the call. */
export interface ActiveCall {
  readonly ctx: HandlerContext;
  /** Aborts `ctx.signal` with a TailorError of the given code (first abort wins). */
  abort(code: Code, message: string): void;
  /** Releases timers and ignores later aborts; call once the call has finished. */
  finish(): void;
}

/** Facts about an incoming call from which {@link startCall} builds its context. */
export interface CallFacts {
  readonly method: DescMethod;
  readonly metadata: RequestMetadata;
  readonly deadline: Date | undefined;
  readonly peer: string;
  readonly logger: Logger;
}

/**
 * Builds the context of one call: a request id, a child logger, and a signal
 * that aborts with DEADLINE_EXCEEDED when the deadline passes (so handlers see
 * it even where the transport does not cancel them).
 */
export function startCall(facts: CallFacts): ActiveCall {
  const controller = new AbortController();
  const sent = facts.metadata.get(REQUEST_ID_HEADER);
  const requestId =
    sent !== undefined && sent !== "" && sent.length <= MAX_REQUEST_ID_LENGTH ? sent : randomUUID();
  const logger = facts.logger.child({
    requestId,
    method: `${facts.method.parent.typeName}/${facts.method.name}`,
  });
  let finished = false;
  const abort = (code: Code, message: string): void => {
    if (!finished && !controller.signal.aborted) controller.abort(new TailorError(code, message));
  };
  let timer: NodeJS.Timeout | undefined;
  if (facts.deadline !== undefined) {
    const remaining = facts.deadline.getTime() - Date.now();
    if (remaining <= 0) abort(Code.DEADLINE_EXCEEDED, "deadline exceeded");
    // Clamped: Node fires timers over 2^31-1 ms at once.
    else
      timer = setTimeout(
        () => abort(Code.DEADLINE_EXCEEDED, "deadline exceeded"),
        Math.min(remaining, 2 ** 31 - 1),
      );
  }
  const ctx: HandlerContext = {
    metadata: facts.metadata,
    signal: controller.signal,
    ...(facts.deadline === undefined ? {} : { deadline: facts.deadline }),
    peer: facts.peer,
    logger,
    requestId,
  };
  return {
    ctx,
    abort,
    finish: () => {
      finished = true;
      clearTimeout(timer);
    },
  };
}

/** Metadata over a plain record, keys lower-cased as HTTP/2 would deliver them. */
export function recordMetadata(record: Readonly<Record<string, string>>): RequestMetadata {
  const values = new Map(Object.entries(record).map(([key, value]) => [key.toLowerCase(), value]));
  return { get: (key) => values.get(key.toLowerCase()) };
}
