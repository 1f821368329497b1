import { BlobNotFoundError } from "@tailor/blob";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ServiceCredentialsMissingError } from "../gateway-dependencies.js";
import { publicFailure, sendApiError } from "../http/errors.js";
import { ArchNotServedError } from "./entitled-index.js";

/** How long a client is told to wait after a 503 the operator must fix. */
const RETRY_AFTER_SECONDS = "30";

/** Extra fields of the REST error body. */
export interface ApkErrorExtra {
  readonly field?: string;
  readonly reason?: string;
  readonly details?: Record<string, string>;
}

/**
 * An answer of the APK routes other than success: HTTP status, stable code
 * and message (the REST error body's), and headers that go with it (a
 * `WWW-Authenticate` challenge, `Retry-After`). Routes throw it; the APK
 * scope's error handler sends it.
 */
export class ApkRequestError extends Error {
  override readonly name = "ApkRequestError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly extra: ApkErrorExtra = {},
  ) {
    super(message);
  }
}

/**
 * What the client is answered for what an APK route threw. Failures that
 * are the operator's to fix (no or refused service credentials, package bytes
 * missing from the blob store) are logged here and answered 503 with
 * Retry-After: the client's own credentials were fine, so never 401/403.
 */
export function apkErrorOf(request: FastifyRequest, error: unknown): ApkRequestError {
  if (error instanceof ApkRequestError) return error;
  if (error instanceof ArchNotServedError)
    return new ApkRequestError(404, "NOT_FOUND", error.message);
  if (error instanceof ServiceCredentialsMissingError) {
    request.log.error({ err: error }, "APK repository cannot be served");
    return unavailable(error.message);
  }
  if (error instanceof BlobNotFoundError) {
    // The catalog lists the package, so its bytes should be there: a store
    // out of sync (or a blob removed under a running request) is temporary
    // or the operator's to fix, not a package that does not exist.
    request.log.error(
      { err: error, digest: error.digest },
      "package bytes missing from the blob store",
    );
    return unavailable(
      `the package's bytes (${error.digest}) are missing from the blob store; try again later`,
    );
  }
  if (error instanceof TailorError) return fromCallFailure(request, error);
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    // Fastify's own refusals (an unparsable request and the like).
    return new ApkRequestError(
      statusCode,
      statusCode === 404 ? "NOT_FOUND" : "INVALID_ARGUMENT",
      error instanceof Error ? error.message : "the request was refused",
    );
  }
  request.log.error({ err: error }, "APK request failed");
  return internal();
}

/**
 * Sends the answer to `error` in the REST error format, with
 * `cache-control: no-store` so no cache keeps a refusal or an outage.
 */
export function sendApkError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): FastifyReply {
  const answer = apkErrorOf(request, error);
  // Whatever a route set for its success describes no error body.
  for (const name of ["etag", "content-length", "content-type"]) reply.removeHeader(name);
  reply.header("cache-control", "no-store");
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
  return sendApiError(request, reply, answer.status, answer.code, answer.message, {
    ...answer.extra,
  });
}

function unavailable(message: string): ApkRequestError {
  return new ApkRequestError(503, "UNAVAILABLE", message, { "retry-after": RETRY_AFTER_SECONDS });
}

function internal(): ApkRequestError {
  return new ApkRequestError(
    500,
    "INTERNAL",
    "internal error; the request id identifies it in the logs",
  );
}

/** A failed service call: its status and message, except where the gateway's own identity was refused. */
function fromCallFailure(request: FastifyRequest, error: TailorError): ApkRequestError {
  if (error.code === Code.UNAUTHENTICATED || error.code === Code.PERMISSION_DENIED) {
    // Every call of these routes is made as the gateway (after the caller's
    // own credentials were checked): its service identity was refused.
    request.log.error(
      { err: error },
      "a service refused the gateway's service identity (check TAILOR_SERVICE_API_KEY and its role)",
    );
    return unavailable(
      "the APK repository is unavailable: the gateway's service identity was refused; the request id identifies it in the logs",
    );
  }
  if (error.code === Code.INTERNAL || error.code === Code.UNKNOWN) {
    request.log.error({ err: error }, "a service call failed");
    return internal();
  }
  // Transport failures (503/504 without a service reason) carry internal
  // addresses: the client gets a generic message, the log the whole error.
  const failure = publicFailure(error);
  if (failure.status >= 500) request.log.warn({ err: error }, "a service call failed");
  return new ApkRequestError(
    failure.status,
    failure.code,
    failure.message,
    failure.status === 503 ? { "retry-after": RETRY_AFTER_SECONDS } : {},
    {
      ...(failure.field === undefined ? {} : { field: failure.field }),
      ...(failure.reason === undefined ? {} : { reason: failure.reason }),
      ...(failure.details === undefined || Object.keys(failure.details).length === 0
        ? {}
        : { details: { ...failure.details } }),
    },
  );
}
