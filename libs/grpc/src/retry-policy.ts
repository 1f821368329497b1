import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code } from "./code.js";
import type { TailorError } from "./tailor-error.js";
import { cancellationError } from "./tailor-error.js";

/** How a client retries failed calls. Retries never outlive the call's deadline. */
export interface RetryPolicy {
  /** Attempts in total, the first one included; 1 disables retries. @default 3 */
  maxAttempts: number;
  /** Upper bound of the first backoff; it doubles each retry (full jitter picks 0..bound). @default 50 */
  initialBackoffMs: number;
  /** Cap on the backoff bound. @default 2000 */
  maxBackoffMs: number;
  /** Status codes worth another attempt. @default DEFAULT_RETRYABLE_CODES */
  retryableCodes: readonly Code[];
}

/**
 * Codes retried by default: only UNAVAILABLE, which means the server could
 * not take the call (not reachable, overloaded, shutting down) or explicitly
 * asks to try again. Deliberately not retried:
 * - DEADLINE_EXCEEDED: the time budget is spent, and the server may have done the work;
 * - INTERNAL, UNKNOWN, DATA_LOSS: the server may have applied part of a
 *   non-idempotent call (CreateOrganization would run twice), and bugs do not fix themselves;
 * - ABORTED: a conflict that must be resolved by re-reading and re-deciding, not by resending;
 * - RESOURCE_EXHAUSTED: a quota or overload signal that retries would make worse;
 * - CANCELLED and every caller error (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS...): the same request fails the same way.
 */
export const DEFAULT_RETRYABLE_CODES: readonly Code[] = Object.freeze([Code.UNAVAILABLE]);

/** The policy clients use unless told otherwise. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 2000,
  retryableCodes: DEFAULT_RETRYABLE_CODES,
});

/** Fills a partial policy from the defaults; `false` means no retries. */
export function resolveRetryPolicy(retry: Partial<RetryPolicy> | false | undefined): RetryPolicy {
  if (retry === false) return { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 };
  return { ...DEFAULT_RETRY_POLICY, ...retry };
}

/**
 * How long to wait before the next attempt, or undefined when the call must
 * fail now: the code is not retryable, attempts are used up, or the wait would
 * reach the deadline.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  failedAttempt: number,
  code: Code,
  deadline: Date,
  random: () => number = Math.random,
): number | undefined {
  if (failedAttempt >= policy.maxAttempts || !policy.retryableCodes.includes(code)) {
    return undefined;
  }
  const bound = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (failedAttempt - 1));
  // Full jitter: many clients failing together spread their retries instead of stampeding back.
  const delay = random() * bound;
  return Date.now() + delay < deadline.getTime() ? delay : undefined;
}

/** Waits, unless the caller aborts first (then rejects with the cancellation error). */
export function backoff(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(cancellationError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancellationError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Whether a failed attempt may be sent again at all. A retryable code alone
 * is not enough: UNAVAILABLE also reports a connection dropped after the
 * request left, or a handler cut off at shutdown, so the server may already
 * have acted. Only methods declared free of side effects or idempotent in
 * their proto (`option idempotency_level`) are retried after such failures;
 * any method is retried when the request provably never reached a server.
 */
export function maySendAgain(method: DescMethod, error: TailorError): boolean {
  if (method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN) return true;
  return NEVER_SENT.some((pattern) => pattern.test(error.message));
}

// grpc-js wording for failures before any server saw the request.
const NEVER_SENT = [
  /No connection established/i,
  /Stream refused by server/i,
  /Name resolution failed/i,
];
