import type { ConfigOf } from "./env-spec.js";
import { env } from "./env-spec.js";
import type { Environment } from "./load-config.js";
import { loadConfig } from "./load-config.js";

/** The six Tailor services, in start order (dependencies first). */
export const SERVICE_NAMES = [
  "entitlement",
  "catalog",
  "resolver",
  "build-history",
  "builder",
  "gateway",
] as const;

/** A Tailor service name. */
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Default gRPC port of each service. */
export const DEFAULT_GRPC_PORTS: Readonly<Record<ServiceName, number>> = {
  catalog: 50051,
  entitlement: 50052,
  resolver: 50053,
  builder: 50054,
  "build-history": 50055,
  gateway: 50056,
};

/** `build-history` → `BUILD_HISTORY`, as used in variable names. */
export function envKey(service: ServiceName): string {
  return service.toUpperCase().replace(/-/g, "_");
}

/** Name of the variable holding a service's gRPC address, e.g. `TAILOR_CATALOG_GRPC_ADDRESS`. */
export function grpcAddressVariable(service: ServiceName): string {
  return `TAILOR_${envKey(service)}_GRPC_ADDRESS`;
}

function addressField(service: ServiceName) {
  return env.address(grpcAddressVariable(service), {
    default: `127.0.0.1:${DEFAULT_GRPC_PORTS[service]}`,
    doc: `Where the ${service} service's gRPC server is reached (and listens, unless TAILOR_GRPC_LISTEN_ADDRESS is set).`,
  });
}

/** Every variable shared by Tailor's processes. */
export const platformSpec = {
  dataDir: env.string("TAILOR_DATA_DIR", {
    default: "./.tailor",
    doc: "Directory for embedded data: PGlite database, blobs, the child nats-server's store.",
  }),
  httpPort: env.port("TAILOR_HTTP_PORT", {
    default: 8080,
    doc: "Gateway HTTP port (console, REST API, registry, APK repositories, /healthz, /metrics).",
  }),
  httpHost: env.string("TAILOR_HTTP_HOST", {
    default: "127.0.0.1",
    doc: "Interface the gateway's HTTP server binds (0.0.0.0 in containers).",
  }),
  databaseUrl: env.optionalUrl(
    "DATABASE_URL",
    "Postgres URL (postgres://user@host:5432/db). Unset: embedded PGlite under TAILOR_DATA_DIR.",
    ["postgres:", "postgresql:"],
  ),
  natsUrl: env.optionalUrl(
    "NATS_URL",
    "NATS server with JetStream. Unset: nats://127.0.0.1:4222 if it answers, else the all-in-one starts a nats-server child.",
    ["nats:", "tls:"],
  ),
  natsNamespace: env.string("TAILOR_NATS_NAMESPACE", {
    default: "tailor",
    doc: "Prefix of every NATS subject and stream, so several installations can share one NATS.",
  }),
  blobStore: env.optionalString(
    "TAILOR_BLOB_STORE",
    "Blob store: a directory path or file:// URL (default <TAILOR_DATA_DIR>/blobs), or nats://BUCKET for the JetStream object store.",
  ),
  grpcListenAddress: env.optionalAddress(
    "TAILOR_GRPC_LISTEN_ADDRESS",
    "Address a single-service process binds its gRPC server to (e.g. 0.0.0.0:50051 in a container).",
  ),
  grpcDeadlineMs: env.integer("TAILOR_GRPC_DEADLINE_MS", {
    default: 10000,
    min: 1,
    doc: "Default deadline of every gRPC call between services, in milliseconds.",
  }),
  shutdownGraceMs: env.integer("TAILOR_SHUTDOWN_GRACE_MS", {
    default: 4000,
    min: 0,
    doc: "How long a stopping process lets in-flight calls finish before it forces them closed.",
  }),
  logLevel: env.oneOf(
    "TAILOR_LOG_LEVEL",
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const,
    { default: "info", doc: "Minimum log level." },
  ),
  logFormat: env.oneOf("TAILOR_LOG_FORMAT", ["auto", "json", "pretty"] as const, {
    default: "auto",
    doc: "Log format: pretty in a terminal and JSON lines otherwise (auto), or forced.",
  }),
  catalogAddress: addressField("catalog"),
  entitlementAddress: addressField("entitlement"),
  resolverAddress: addressField("resolver"),
  builderAddress: addressField("builder"),
  buildHistoryAddress: addressField("build-history"),
  gatewayAddress: addressField("gateway"),
} as const;

/** Parsed platform configuration. */
export type PlatformConfig = ConfigOf<typeof platformSpec>;

/** Loads the platform configuration; throws ConfigError listing every problem. */
export function loadPlatformConfig(environment: Environment): PlatformConfig {
  return loadConfig(platformSpec, environment);
}

/** The configured gRPC address of a service. */
export function serviceAddress(config: PlatformConfig, service: ServiceName): string {
  const byService: Record<ServiceName, string> = {
    catalog: config.catalogAddress,
    entitlement: config.entitlementAddress,
    resolver: config.resolverAddress,
    builder: config.builderAddress,
    "build-history": config.buildHistoryAddress,
    gateway: config.gatewayAddress,
  };
  return byService[service];
}
