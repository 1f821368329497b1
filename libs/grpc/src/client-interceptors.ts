import type { Registry } from "prom-client";
import { errorFields, levelForCode } from "./call-log.js";
import { metricsInterceptor } from "./call-metrics.js";
import { observeCall } from "./call-observer.js";
import type { ClientInterceptor, ClientRequest } from "./client-call.js";
import { Code, codeName } from "./code.js";
import { TailorError } from "./tailor-error.js";

function logAttempt(request: ClientRequest, startedAt: number, err: unknown): void {
  const ms = Math.round((performance.now() - startedAt) * 10) / 10;
  const error = err === undefined ? undefined : TailorError.from(err);
  const code = error?.code ?? Code.OK;
  // The server logs each call too; the client only speaks up at warn when something is wrong
  // on the server's or the network's side, not for answers like NOT_FOUND.
  const level = code === Code.OK || levelForCode(code) === "info" ? "debug" : "warn";
  const fields = {
    code: codeName(code),
    ms,
    attempt: request.attempt,
    ...(error === undefined ? {} : errorFields(error)),
  };
  request.logger[level](fields, "grpc call finished");
}

/**
 * Logs every attempt of every call on the request's logger (with `method`
 * and `requestId`): successes and caller-error answers at debug, the rest at warn.
 */
export const clientLoggingInterceptor: ClientInterceptor = (next) => async (request) => {
  const startedAt = performance.now();
  const log = (err: unknown) => logAttempt(request, startedAt, err);
  return observeCall(() => next(request), log);
};

/**
 * Records `tailor_grpc_client_handling_seconds{service,method,code}` and
 * `tailor_grpc_client_handled_total{service,method,code}` per attempt.
 */
export function clientMetricsInterceptor(registry: Registry): ClientInterceptor {
  return metricsInterceptor(registry, "tailor_grpc_client", "made by this process");
}
