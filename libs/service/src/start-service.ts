import { connectBus } from "@tailor/bus";
import { serviceAddress } from "@tailor/config";
import { openServiceDatabase } from "@tailor/db";
import { createGrpcServer } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { ProcessDependencies } from "./process-dependencies.js";
import { createServiceClients } from "./service-clients.js";
import type { ServiceDefinition } from "./service-definition.js";

/** A service that is up: where it listens and how to stop it. */
export interface RunningService {
  readonly name: string;
  /** The address its gRPC server listens on (port resolved when 0 was asked). */
  readonly address: string;
  readonly port: number;
  readonly logger: Logger;
  /** Facts the service reported at start (e.g. its HTTP URL). */
  readonly info: Readonly<Record<string, string>>;
  /** Marks it NOT_SERVING, drains its gRPC calls, stops its own work, closes its NATS connection. */
  stop(): Promise<void>;
}

/**
 * Starts one service on the process's shared dependencies: migrates its
 * schema, connects and provisions NATS, calls its start, then listens.
 * @param listenAddress where to bind gRPC; @default the service's configured address
 */
export async function startService(
  definition: ServiceDefinition,
  deps: ProcessDependencies,
  listenAddress?: string,
): Promise<RunningService> {
  const logger = deps.logger.child({ service: definition.name });
  const db =
    definition.schema === undefined
      ? undefined
      : await openServiceDatabase<unknown>(deps.database, {
          schema: definition.schema,
          migrations: definition.migrations ?? {},
          logger,
        });
  const bus = await connectBus({
    servers: deps.natsUrl,
    name: definition.name,
    logger,
    namespace: deps.config.natsNamespace,
  });
  const grpc = createGrpcServer({
    logger,
    metrics: deps.metrics,
    shutdownGraceMs: deps.config.shutdownGraceMs,
  });
  const clients = createServiceClients(deps.config, logger);
  let instance: Awaited<ReturnType<ServiceDefinition["start"]>>;
  let bound: { address: string; port: number };
  try {
    await bus.provision();
    instance = await definition.start({
      config: deps.config,
      logger,
      db,
      bus,
      grpc,
      clients,
      metrics: deps.metrics,
    });
    bound = await grpc.listen(
      listenAddress ??
        deps.config.grpcListenAddress ??
        serviceAddress(deps.config, definition.name),
    );
  } catch (error) {
    clients.close();
    await grpc.shutdown({ graceMs: 0 }).catch(() => undefined);
    await bus.close().catch(() => undefined);
    throw error;
  }
  logger.info({ address: bound.address }, `${definition.name} serving gRPC`);

  let stopping: Promise<void> | undefined;
  return {
    name: definition.name,
    address: bound.address,
    port: bound.port,
    logger,
    info: instance.info ?? {},
    stop() {
      stopping ??= runAll(
        [
          () => grpc.shutdown(),
          async () => instance.stop?.(),
          async () => clients.close(),
          () => bus.close(),
        ],
        () => logger.info(`${definition.name} stopped`),
      );
      return stopping;
    },
  };
}

/**
 * Runs every cleanup step in order even when one fails (a failed gRPC drain
 * must not leave the NATS connection open), then rethrows the first failure.
 */
export async function runAll(
  steps: readonly (() => Promise<unknown>)[],
  onSuccess?: () => void,
): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first !== undefined) throw first.error;
  onSuccess?.();
}
