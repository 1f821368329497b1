import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { commonV1 } from "@tailor/proto";
import { Code, isCode } from "./code.js";

/** Options for {@link TailorError}: the machine-readable facts a caller can act on. */
export interface TailorErrorOptions {
  /** Stable machine-readable code, e.g. "org_not_found". */
  reason?: string;
  /** The request field the error is about, e.g. "packages[2]". */
  field?: string;
  /** Extra key/value facts (package name, version, constraint...). */
  metadata?: Record<string, string>;
  /** The underlying error; stays in this process and is never sent to the caller. */
  cause?: unknown;
}

/**
 * The one error type of Tailor's RPCs: a gRPC status code, a message meant for
 * the caller, and optional `reason`/`field`/`metadata` that travel with it as
 * the `tailor-error-detail-bin` trailer.
 */
export class TailorError extends Error {
  override readonly name = "TailorError";
  /** The gRPC status code. */
  readonly code: Code;
  /** Stable machine-readable code, e.g. "org_not_found". */
  declare readonly reason?: string;
  /** The request field the error is about. */
  declare readonly field?: string;
  /** Extra key/value facts; empty when there are none. */
  readonly metadata: Record<string, string>;

  constructor(code: Code, message: string, options: TailorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.reason !== undefined && options.reason !== "") this.reason = options.reason;
    if (options.field !== undefined && options.field !== "") this.field = options.field;
    this.metadata = { ...options.metadata };
  }

  /**
   * Normalises anything thrown into a TailorError: a TailorError passes
   * through, a grpc-js ServiceError keeps its code, details and decoded
   * trailer, aborts become CANCELLED, timeouts DEADLINE_EXCEEDED, and
   * everything else INTERNAL with its message (the original stays as `cause`).
   */
  static from(err: unknown): TailorError {
    if (err instanceof TailorError) return err;
    if (isServiceError(err)) {
      const detail = decodeErrorDetail(err.metadata);
      return new TailorError(isCode(err.code) ? err.code : Code.UNKNOWN, err.details, {
        ...detail,
        cause: err,
      });
    }
    if (err instanceof Error) {
      // `signal.throwIfAborted()` and `events.once(..., { signal })` wrap the
      // abort reason; when that reason is already a TailorError it says more.
      if (err.name === "AbortError") {
        return err.cause instanceof TailorError
          ? err.cause
          : new TailorError(Code.CANCELLED, err.message || "operation was aborted", { cause: err });
      }
      if (err.name === "TimeoutError") {
        return new TailorError(Code.DEADLINE_EXCEEDED, err.message || "operation timed out", {
          cause: err,
        });
      }
      return new TailorError(Code.INTERNAL, err.message || err.name, { cause: err });
    }
    return new TailorError(Code.INTERNAL, String(err), { cause: err });
  }
}

/** What a caller sees for a handler failure that was not a TailorError. */
export const INTERNAL_ERROR_MESSAGE = "internal error (details are in the server's log)";

/** Name of the binary trailer that carries a `tailor.common.v1.ErrorDetail`. */
export const ERROR_DETAIL_TRAILER = "tailor-error-detail-bin";

/** What grpc-js hands a client when a call fails (its `ServiceError`). */
interface ServiceErrorLike extends Error {
  code: number;
  details: string;
  metadata: { get(key: string): unknown[] };
}

function isServiceError(err: unknown): err is ServiceErrorLike {
  if (!(err instanceof Error)) return false;
  const candidate = err as Partial<ServiceErrorLike>;
  return (
    typeof candidate.code === "number" &&
    typeof candidate.details === "string" &&
    typeof candidate.metadata?.get === "function"
  );
}

/** Serialises reason, field and metadata, or returns undefined when there is nothing to send. */
export function encodeErrorDetail(error: TailorError): Uint8Array | undefined {
  const metadata = boundedMetadata(error.metadata);
  if (
    error.reason === undefined &&
    error.field === undefined &&
    Object.keys(metadata).length === 0
  ) {
    return undefined;
  }
  return toBinary(
    commonV1.ErrorDetailSchema,
    create(commonV1.ErrorDetailSchema, {
      reason: shortened(error.reason ?? "", MAX_DETAIL_VALUE_LENGTH),
      field: shortened(error.field ?? "", MAX_DETAIL_VALUE_LENGTH),
      metadata,
    }),
  );
}

/**
 * grpc-js drops a reply whose status message or trailers exceed its header
 * limits (about 16 KiB), and the caller then sees DEADLINE_EXCEEDED instead
 * of the error; so messages and details are bounded here, whatever a
 * handler put in them.
 */
export const MAX_STATUS_MESSAGE_LENGTH = 4096;
const MAX_DETAIL_VALUE_LENGTH = 512;
const MAX_DETAIL_ENTRIES = 32;

/** `text` cut to `limit` characters, saying how long it was. */
export function shortened(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const marker = `… (${text.length} characters)`;
  return `${text.slice(0, Math.max(0, limit - marker.length))}${marker}`;
}

function boundedMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(metadata).slice(0, MAX_DETAIL_ENTRIES);
  return Object.fromEntries(
    entries.map(([key, value]) => [
      shortened(key, MAX_DETAIL_VALUE_LENGTH),
      shortened(value, MAX_DETAIL_VALUE_LENGTH),
    ]),
  );
}

/** Reads the ErrorDetail trailer back; a missing or garbled trailer yields no detail. */
function decodeErrorDetail(metadata: ServiceErrorLike["metadata"]): TailorErrorOptions {
  const raw = metadata.get(ERROR_DETAIL_TRAILER)[0];
  if (!(raw instanceof Uint8Array)) return {};
  try {
    const detail = fromBinary(commonV1.ErrorDetailSchema, raw);
    return { reason: detail.reason, field: detail.field, metadata: detail.metadata };
  } catch {
    // A peer that sends a corrupt trailer still gets its code and message through.
    return {};
  }
}

/**
 * What the caller of an RPC sees of an error: code, message and details, but
 * not the server-side cause. The in-process transport uses it so tests see
 * exactly what the wire would deliver.
 */
export function toWireError(err: unknown): TailorError {
  const error = TailorError.from(err);
  if (!(err instanceof TailorError) && error.code === Code.INTERNAL) {
    // An unexpected error's text can name tables, constraints, hosts and
    // addresses; the caller gets a fixed message, the server log the details.
    return new TailorError(Code.INTERNAL, INTERNAL_ERROR_MESSAGE);
  }
  return new TailorError(error.code, error.message, {
    ...(error.reason === undefined ? {} : { reason: error.reason }),
    ...(error.field === undefined ? {} : { field: error.field }),
    metadata: error.metadata,
  });
}

/**
 * The error for a call whose caller aborted its signal: the reason itself when
 * it is a TailorError, DEADLINE_EXCEEDED for `AbortSignal.timeout()`, else CANCELLED.
 */
export function cancellationError(signal: AbortSignal): TailorError {
  const reason: unknown = signal.reason;
  if (reason instanceof TailorError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new TailorError(Code.DEADLINE_EXCEEDED, "the caller's signal timed out", {
      cause: reason,
    });
  }
  return new TailorError(Code.CANCELLED, "the caller cancelled the call", { cause: reason });
}
