/**
 * @tailor/service — what every Tailor service is made of: a definition
 * (name, schema, migrations, start), the dependencies a process shares, and
 * start/stop with graceful shutdown.
 */

export type { ProcessDependencies } from "./process-dependencies.js";
export { createProcessDependencies, DEFAULT_NATS_URL } from "./process-dependencies.js";
export { runServiceProcess } from "./run-service-process.js";
export type { ServiceClient, ServiceClients, ServiceHealth } from "./service-clients.js";
export { createServiceClients } from "./service-clients.js";
export type { ServiceContext, ServiceDefinition, ServiceInstance } from "./service-definition.js";
export { databaseOf } from "./service-definition.js";
export { serviceInfo, TAILOR_VERSION } from "./service-info.js";
export { onShutdownSignal } from "./shutdown-signal.js";
export type { RunningService } from "./start-service.js";
export { runAll, startService } from "./start-service.js";
