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

/**
 * Answers a failed gRPC call: its status becomes the HTTP status, its
 * message, field and reason the body. Internal errors are logged and answered
 * without their text.
 */
export function sendCallFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): FastifyReply {
  if (error instanceof TailorError) {
    const status = httpStatusOf(error.code);
    if (status >= 500) request.log.warn({ err: error }, "a service call failed");
    const internal = error.code === Code.INTERNAL || error.code === Code.UNKNOWN;
    return sendApiError(
      request,
      reply,
      status,
      codeName(error.code),
      internal ? "internal error; the request id identifies it in the logs" : error.message,
      {
        ...(error.field === undefined ? {} : { field: error.field }),
        ...(error.reason === undefined ? {} : { reason: error.reason }),
        ...(internal ? {} : { details: error.metadata }),
      },
    );
  }
  request.log.error({ err: error }, "request failed");
  return sendApiError(
    request,
    reply,
    500,
    "INTERNAL",
    "internal error; the request id identifies it in the logs",
  );
}
