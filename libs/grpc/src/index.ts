/**
 * @tailor/grpc — typed gRPC servers and clients from protobuf-es service
 * descriptors on @grpc/grpc-js: one error type, deadlines and retries on every
 * call, health checks, logging and metrics built in, and an in-process
 * transport for handler tests.
 */

export type {
  CallOptions,
  Client,
  ClientCall,
  ClientInterceptor,
  ClientMethod,
  ClientRequest,
  ClientResponse,
} from "./client-call.js";
export { clientLoggingInterceptor, clientMetricsInterceptor } from "./client-interceptors.js";
export { Code } from "./code.js";
export type { GrpcClientOptions } from "./grpc-client.js";
export { createGrpcClient } from "./grpc-client.js";
export type { GrpcServer, GrpcServerOptions } from "./grpc-server.js";
export { createGrpcServer, GrpcServerError } from "./grpc-server.js";
export type { HealthClient, HealthClientOptions, HealthStatus } from "./health-client.js";
export { createHealthClient } from "./health-client.js";
export type { HealthHold, HealthReporter, ServingStatus } from "./health-reporter.js";
export type { InProcessClientOptions } from "./in-process-client.js";
export { createInProcessClient } from "./in-process-client.js";
export { InvalidFieldError } from "./invalid-field-error.js";
export { mapErrors } from "./map-errors.js";
export type { RetryPolicy } from "./retry-policy.js";
export { DEFAULT_RETRY_POLICY, DEFAULT_RETRYABLE_CODES } from "./retry-policy.js";
export type {
  HandlerContext,
  MethodImpl,
  RequestMetadata,
  ServerCall,
  ServerInterceptor,
  ServerRequest,
  ServerResponse,
  ServiceImpl,
} from "./server-call.js";
export { serverLoggingInterceptor, serverMetricsInterceptor } from "./server-interceptors.js";
export type { TailorErrorOptions } from "./tailor-error.js";
export { ERROR_DETAIL_TRAILER, INTERNAL_ERROR_MESSAGE, TailorError } from "./tailor-error.js";
