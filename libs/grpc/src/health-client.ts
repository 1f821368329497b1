import type { ChannelCredentials } from "@grpc/grpc-js";
import { healthV1 } from "@tailor/proto";
import type { CallOptions } from "./client-call.js";
import { Code } from "./code.js";
import { createGrpcClient } from "./grpc-client.js";
import { TailorError } from "./tailor-error.js";

/** What a health check reports; SERVICE_UNKNOWN when the server does not know the service. */
export type HealthStatus = "SERVING" | "NOT_SERVING" | "UNKNOWN" | "SERVICE_UNKNOWN";

/** A client of the standard grpc.health.v1 Health service. */
export interface HealthClient {
  /** Checks one service by full type name, or the whole server with "" (the default). */
  check(service?: string, options?: CallOptions): Promise<HealthStatus>;
  /** Releases the channel. */
  close(): void;
}

/** Options for {@link createHealthClient}. */
export interface HealthClientOptions {
  /** Time budget of a check. @default 10000 */
  defaultDeadlineMs?: number;
  /** Transport security. @default insecure */
  credentials?: ChannelCredentials;
}

const statusNames: Record<healthV1.HealthCheckResponse_ServingStatus, HealthStatus> = {
  [healthV1.HealthCheckResponse_ServingStatus.UNKNOWN]: "UNKNOWN",
  [healthV1.HealthCheckResponse_ServingStatus.SERVING]: "SERVING",
  [healthV1.HealthCheckResponse_ServingStatus.NOT_SERVING]: "NOT_SERVING",
  [healthV1.HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN]: "SERVICE_UNKNOWN",
};

/**
 * Creates a health-check client for probes and readiness waits. Other
 * failures (e.g. UNAVAILABLE when nothing listens) are thrown as TailorError.
 */
export function createHealthClient(
  address: string,
  options: HealthClientOptions = {},
): HealthClient {
  const client = createGrpcClient(healthV1.Health, {
    address,
    // A probe reports the state right now; whoever polls decides whether to ask again.
    retry: false,
    ...(options.defaultDeadlineMs === undefined
      ? {}
      : { defaultDeadlineMs: options.defaultDeadlineMs }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  return {
    async check(service = "", callOptions) {
      try {
        const response = await client.check({ service }, callOptions);
        return statusNames[response.status] ?? "UNKNOWN";
      } catch (err) {
        const error = TailorError.from(err);
        if (error.code === Code.NOT_FOUND) return "SERVICE_UNKNOWN";
        throw error;
      }
    },
    close: () => client.close(),
  };
}
