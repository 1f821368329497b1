import type { DescMethod } from "@bufbuild/protobuf";
import type { Logger } from "@tailor/log";
import type { Registry } from "prom-client";
import { errorFields, levelForCode } from "./call-log.js";
import { metricsInterceptor } from "./call-metrics.js";
import { observeCall } from "./call-observer.js";
import { Code, codeName } from "./code.js";
import type { ServerInterceptor } from "./server-call.js";
import { TailorError } from "./tailor-error.js";

function isHealthMethod(method: DescMethod): boolean {
  return method.parent.typeName === "grpc.health.v1.Health";
}

function logCall(logger: Logger, method: DescMethod, startedAt: number, err: unknown): void {
  const ms = Math.round((performance.now() - startedAt) * 10) / 10;
  const error = err === undefined ? undefined : TailorError.from(err);
  const code = error?.code ?? Code.OK;
  // Probes call Health every few seconds; logging each success at info would drown real traffic.
  const level = code === Code.OK && isHealthMethod(method) ? "debug" : levelForCode(code);
  const fields = { code: codeName(code), ms, ...(error === undefined ? {} : errorFields(error)) };
  logger[level](fields, "grpc call handled");
}

/**
 * Logs every handled call once, on the handler's child logger (which carries
 * `requestId` and `method`), with its status code and duration in ms.
 */
export const serverLoggingInterceptor: ServerInterceptor = (next) => async (request) => {
  const startedAt = performance.now();
  const log = (err: unknown) => logCall(request.ctx.logger, request.method, startedAt, err);
  return observeCall(() => next(request), log);
};

/**
 * Records `tailor_grpc_server_handling_seconds{service,method,code}` and
 * `tailor_grpc_server_handled_total{service,method,code}` in the registry.
 */
export function serverMetricsInterceptor(registry: Registry): ServerInterceptor {
  return metricsInterceptor(registry, "tailor_grpc_server", "handled by this server");
}
