import { BlobNotFoundError } from "@tailor/blob";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ServiceCredentialsMissingError } from "../gateway-dependencies.js";

/**
 * Error codes of the OCI distribution spec (and of Docker's registry, which
 * clients also understand) that the pull side answers with.
 */
export const RegistryErrorCode = {
  nameUnknown: "NAME_UNKNOWN",
  nameInvalid: "NAME_INVALID",
  manifestUnknown: "MANIFEST_UNKNOWN",
  blobUnknown: "BLOB_UNKNOWN",
  digestInvalid: "DIGEST_INVALID",
  tagInvalid: "TAG_INVALID",
  paginationNumberInvalid: "PAGINATION_NUMBER_INVALID",
  rangeInvalid: "RANGE_INVALID",
  unauthorized: "UNAUTHORIZED",
  denied: "DENIED",
  unsupported: "UNSUPPORTED",
  tooManyRequests: "TOOMANYREQUESTS",
  unavailable: "UNAVAILABLE",
  unknown: "UNKNOWN",
} as const;

/** One of {@link RegistryErrorCode}'s values. */
export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** Body of every registry error, as the OCI distribution spec defines it. */
export interface RegistryErrorBody {
  readonly errors: readonly {
    readonly code: RegistryErrorCode;
    readonly message: string;
    readonly detail?: Readonly<Record<string, unknown>>;
  }[];
}

/**
 * A refusal of the registry routes: its HTTP status, OCI error code and a
 * message naming what was wrong. Route handlers throw it; the registry's
 * error handler answers it.
 */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly status: number,
    readonly code: RegistryErrorCode,
    message: string,
    /** Extra facts for the body's `detail`. */
    readonly detail?: Readonly<Record<string, unknown>>,
    /** Response headers that go with the error (e.g. `WWW-Authenticate`, `Retry-After`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Headers that describe a blob or manifest being served; an error answer carries none of them. */
const SUCCESS_HEADERS = [
  "accept-ranges",
  "content-range",
  "docker-content-digest",
  "etag",
  "content-length",
] as const;

/**
 * Writes an OCI error body with `status`, marked `cache-control: no-store`
 * (a refusal or an outage must not be kept where the blob would be).
 */
export function sendRegistryError(reply: FastifyReply, error: RegistryError): FastifyReply {
  for (const name of SUCCESS_HEADERS) reply.removeHeader(name);
  reply.header("cache-control", "no-store");
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  const body: RegistryErrorBody = {
    errors: [
      {
        code: error.code,
        message: error.message,
        ...(error.detail === undefined ? {} : { detail: error.detail }),
      },
    ],
  };
  return reply.code(error.status).type("application/json; charset=utf-8").send(body);
}

/**
 * Turns what a registry handler threw into the error the client sees: a
 * {@link RegistryError} as is; a failed RegistryService call by its status
 * and reason (the builder says which of repository or manifest is unknown);
 * missing or refused service credentials as 503; anything else as 500
 * without its text.
 */
export function registryErrorOf(request: FastifyRequest, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  if (error instanceof ServiceCredentialsMissingError) {
    request.log.error({ err: error }, "registry request cannot be served");
    return new RegistryError(503, RegistryErrorCode.unavailable, error.message);
  }
  if (error instanceof TailorError) return fromCallFailure(request, error);
  if (error instanceof BlobNotFoundError) {
    // Removed from the store between the check and the read.
    return new RegistryError(404, RegistryErrorCode.blobUnknown, error.message, {
      digest: error.digest,
    });
  }
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    // Fastify's own refusals (an unparsable request and the like).
    return new RegistryError(
      statusCode,
      RegistryErrorCode.unsupported,
      error instanceof Error ? error.message : "the request was refused",
    );
  }
  request.log.error({ err: error }, "registry request failed");
  return internalError(request);
}

function internalError(request: FastifyRequest): RegistryError {
  return new RegistryError(
    500,
    RegistryErrorCode.unknown,
    `internal error; request id ${String(request.id)} identifies it in the logs`,
  );
}

function fromCallFailure(request: FastifyRequest, error: TailorError): RegistryError {
  switch (error.code) {
    case Code.NOT_FOUND:
      return error.reason === "manifest_not_found"
        ? new RegistryError(404, RegistryErrorCode.manifestUnknown, error.message)
        : new RegistryError(404, RegistryErrorCode.nameUnknown, error.message);
    case Code.INVALID_ARGUMENT: {
      const code =
        error.field === "repository"
          ? RegistryErrorCode.nameInvalid
          : error.field === "digest"
            ? RegistryErrorCode.digestInvalid
            : RegistryErrorCode.tagInvalid;
      return new RegistryError(400, code, error.message);
    }
    case Code.RESOURCE_EXHAUSTED:
      return new RegistryError(429, RegistryErrorCode.tooManyRequests, error.message);
    case Code.UNAUTHENTICATED:
    case Code.PERMISSION_DENIED:
      // Registry calls are made as the gateway, after the caller's own
      // credentials were checked: its service identity was refused. The
      // client's password was fine, so neither 401 nor 403.
      request.log.error(
        { err: error },
        "a service refused the gateway's service identity (check TAILOR_SERVICE_API_KEY and its role)",
      );
      return new RegistryError(
        503,
        RegistryErrorCode.unavailable,
        `the image registry is unavailable: the gateway's service identity was refused; request id ${String(request.id)} identifies it in the logs`,
        undefined,
        { "retry-after": "30" },
      );
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      request.log.warn({ err: error }, "the registry service did not answer");
      return new RegistryError(
        503,
        RegistryErrorCode.unavailable,
        "the image registry is unavailable; try again shortly",
        undefined,
        { "retry-after": "5" },
      );
    default:
      request.log.error({ err: error }, "a registry service call failed");
      return internalError(request);
  }
}
