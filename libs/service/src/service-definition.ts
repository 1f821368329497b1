import type { Bus } from "@tailor/bus";
import type { PlatformConfig, ServiceName } from "@tailor/config";
import type { Kysely, Migration } from "@tailor/db";
import type { GrpcServer } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { Registry } from "prom-client";
import type { ServiceClients } from "./service-clients.js";

/** What a service receives when it starts: everything it may use, already connected. */
export interface ServiceContext {
  /** The process's configuration (addresses of every service included). */
  readonly config: PlatformConfig;
  /** Logger with `service` set to this service's name. */
  readonly logger: Logger;
  /** Kysely scoped to the service's own schema, migrated; `undefined` when the service keeps no tables. */
  readonly db: Kysely<unknown> | undefined;
  /** The service's own NATS connection; streams and consumers are already provisioned. */
  readonly bus: Bus;
  /** The service's gRPC server (health included); add handlers before start returns. */
  readonly grpc: GrpcServer;
  /** Typed clients for the other services, with deadlines and retries. */
  readonly clients: ServiceClients;
  /** Prometheus registry shared by the process. */
  readonly metrics: Registry;
}

/** What a started service hands back: how to stop what it started itself. */
export interface ServiceInstance {
  /** Stops what the service started beyond its gRPC server (HTTP servers, consumers). */
  stop?(): Promise<void>;
  /** Facts worth printing once started, e.g. `{ httpUrl: "http://127.0.0.1:8080" }`. */
  readonly info?: Readonly<Record<string, string>>;
}

/**
 * A Tailor service: its name, its Postgres schema and migrations, and a start
 * function that registers gRPC handlers, consumers and servers.
 */
export interface ServiceDefinition {
  /** Service name; also the NATS connection name and the log `service` field. */
  readonly name: ServiceName;
  /** Postgres schema owned by the service (no other service reads it). */
  readonly schema?: string;
  /** Migrations of that schema, applied in name order at start. */
  readonly migrations?: Record<string, Migration>;
  /** Wires handlers and background work; called once the dependencies are ready. */
  start(context: ServiceContext): Promise<ServiceInstance> | ServiceInstance;
}

/**
 * The service's Kysely typed with its own tables.
 * @throws Error when the definition declared no schema.
 */
export function databaseOf<DB>(context: ServiceContext): Kysely<DB> {
  if (context.db === undefined) {
    throw new Error("this service declared no schema, so it has no database");
  }
  return context.db as Kysely<DB>;
}
