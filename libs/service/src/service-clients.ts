import type { DescService } from "@bufbuild/protobuf";
import type { PlatformConfig, ServiceName } from "@tailor/config";
import { serviceAddress } from "@tailor/config";
import type { Client } from "@tailor/grpc";
import { createGrpcClient, createHealthClient } from "@tailor/grpc";
import type { Logger } from "@tailor/log";

/** A typed client as handed out by {@link ServiceClients}. */
export type ServiceClient<S extends DescService> = Client<S> & { close(): void };

/** Health of one service as seen by a gRPC health check. */
export interface ServiceHealth {
  /** Standard grpc.health.v1 status, or UNREACHABLE when the call failed. */
  readonly status: "SERVING" | "NOT_SERVING" | "UNKNOWN" | "SERVICE_UNKNOWN" | "UNREACHABLE";
  /** The address that was asked. */
  readonly address: string;
  /** Round-trip time of the check in milliseconds. */
  readonly latencyMs: number;
  /** Why the check failed, when it did. */
  readonly error?: string;
}

/** Typed clients for the other services; each is created once and reused. */
export interface ServiceClients {
  /** A typed client for `service` (a descriptor of that service's proto) at its configured address. */
  get<S extends DescService>(target: ServiceName, service: S): ServiceClient<S>;
  /** Asks a service's standard health endpoint, within `deadlineMs`. */
  health(target: ServiceName, deadlineMs: number): Promise<ServiceHealth>;
  /** Closes every client created so far. */
  close(): void;
}

/** Creates the client factory of one service, dialing addresses from `config`. */
export function createServiceClients(config: PlatformConfig, logger: Logger): ServiceClients {
  const clients = new Map<string, { close(): void }>();
  const healthClients = new Map<ServiceName, ReturnType<typeof createHealthClient>>();
  return {
    get<S extends DescService>(target: ServiceName, service: S): ServiceClient<S> {
      const key = `${target}/${service.typeName}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = createGrpcClient(service, {
          address: serviceAddress(config, target),
          logger: logger.child({ peer: target }),
          defaultDeadlineMs: config.grpcDeadlineMs,
        });
        clients.set(key, client);
      }
      return client as ServiceClient<S>;
    },
    async health(target, deadlineMs) {
      const address = serviceAddress(config, target);
      let client = healthClients.get(target);
      if (client === undefined) {
        client = createHealthClient(address, { defaultDeadlineMs: deadlineMs });
        healthClients.set(target, client);
      }
      const started = performance.now();
      try {
        const status = await client.check("", { deadlineMs });
        return { status, address, latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        return {
          status: "UNREACHABLE",
          address,
          latencyMs: Math.round(performance.now() - started),
          error: error instanceof Error ? error.message : String(error),
        };
      }
    },
    close() {
      for (const client of clients.values()) client.close();
      for (const client of healthClients.values()) client.close();
      clients.clear();
      healthClients.clear();
    },
  };
}
