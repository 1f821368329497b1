import type { Code as CodeType } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyReply, FastifyRequest } from "fastify";

/** Body of every REST error: a stable code, a message naming the field or package, the request id. */
export interface ApiErrorBody {
  readonly error: {
    /** Stable, upper-case code (the gRPC status name, or e.g. RATE_LIMITED). */
    readonly code: string;
    readonly message: string;
    /** The request field the error is about, e.g. "packages[2]". */
    readonly field?: string;
    /** Machine-readable reason, e.g. "not_entitled". */
    readonly reason?: string;
    /** Extra facts (bounded strings) the service attached. */
    readonly details?: Readonly<Record<string, string>>;
  };
  readonly requestId: string;
}

const NAMES = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** The upper-case name of a gRPC status code, e.g. `NOT_FOUND`. */
export function codeName(code: CodeType): string {
  return NAMES.get(code) ?? "UNKNOWN";
}

/** The HTTP status a gRPC status code becomes. */
export function httpStatusOf(code: CodeType): number {
  switch (code) {
    case Code.OK:
      return 200;
    case Code.INVALID_ARGUMENT:
    case Code.OUT_OF_RANGE:
      return 400;
    case Code.FAILED_PRECONDITION:
      return 409;
    case Code.UNAUTHENTICATED:
      return 401;
    case Code.PERMISSION_DENIED:
      return 403;
    case Code.NOT_FOUND:
      return 404;
    case Code.ALREADY_EXISTS:
    case Code.ABORTED:
      return 409;
    case Code.RESOURCE_EXHAUSTED:
      return 429;
    case Code.CANCELLED:
      return 499;
    case Code.UNIMPLEMENTED:
      return 501;
    case Code.UNAVAILABLE:
      return 503;
    case Code.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

/** Sends a REST error body with `status`. */
export function sendApiError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: { field?: string; reason?: string; details?: Record<string, string> } = {},
): FastifyReply {
  const body: ApiErrorBody = {
    error: {
      code,
      message,
      ...(extra.field === undefined ? {} : { field: extra.field }),
      ...(extra.reason === undefined ? {} : { reason: extra.reason }),
      ...(extra.details === undefined || Object.keys(extra.details).length === 0
        ? {}
        : { details: extra.details }),
    },
    requestId: String(request.id),
  };
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/** The generic message of an internal failure; its text stays in the logs. */
export const INTERNAL_ERROR_MESSAGE = "internal error; the request id identifies it in the logs";

/** Generic messages of server-side statuses whose text is not shown (it may name internal addresses). */
const GENERIC_MESSAGES: Readonly<Record<number, string>> = {
  501: "the operation is not implemented by the service behind it; the request id identifies it in the logs",
  503: "a service behind the gateway is unavailable; try again shortly (the request id identifies the failure in the logs)",
  504: "a service behind the gateway did not answer in time; try again (the request id identifies the failure in the logs)",
};

/** A failed service call as a client may see it. */
export interface PublicFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly reason?: string;
  readonly details?: Record<string, string>;
}

/**
 * What a client is told of a failed service call. Client errors (4xx) keep
 * the service's message, field, reason and facts. Server errors (5xx) keep
 * them only when the service chose a `reason` (a failure it describes on
 * purpose); otherwise, and always for INTERNAL/UNKNOWN, the message is
 * generic, since transport failures name internal addresses
 * ("connect ECONNREFUSED 10.0.3.7:50051").
 */
export function publicFailure(error: TailorError): PublicFailure {
  const status = httpStatusOf(error.code);
  const code = codeName(error.code);
  const internal = error.code === Code.INTERNAL || error.code === Code.UNKNOWN;
  const withheld = internal || (status >= 500 && error.reason === undefined);
  return {
    status,
    code,
    message: withheld ? (GENERIC_MESSAGES[status] ?? INTERNAL_ERROR_MESSAGE) : error.message,
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.reason === undefined ? {} : { reason: error.reason }),
    ...(withheld ? {} : { details: error.metadata }),
  };
}

/**
 * Answers a failed gRPC call: its status becomes the HTTP status, its
 * message, field and reason the body (see {@link publicFailure}). Server
 * errors are logged with their full text.
 */
export function sendCallFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): FastifyReply {
  if (error instanceof TailorError) {
    const failure = publicFailure(error);
    if (failure.status >= 500) request.log.warn({ err: error }, "a service call failed");
    return sendApiError(request, reply, failure.status, failure.code, failure.message, {
      ...(failure.field === undefined ? {} : { field: failure.field }),
      ...(failure.reason === undefined ? {} : { reason: failure.reason }),
      ...(failure.details === undefined ? {} : { details: failure.details }),
    });
  }
  request.log.error({ err: error }, "request failed");
  return sendApiError(request, reply, 500, "INTERNAL", INTERNAL_ERROR_MESSAGE);
}
