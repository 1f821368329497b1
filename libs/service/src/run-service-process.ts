import { loadPlatformConfig } from "@tailor/config";
import { createLogger } from "@tailor/log";
import { createProcessDependencies } from "./process-dependencies.js";
import type { ServiceDefinition } from "./service-definition.js";
import { onShutdownSignal } from "./shutdown-signal.js";
import { runAll, startService } from "./start-service.js";

/**
 * The body of every `services/<name>/src/main.ts`: configuration from the
 * environment → dependencies → start → stop cleanly on SIGTERM/SIGINT.
 * Exits 1 with the configuration error listed when the environment is wrong.
 */
export async function runServiceProcess(definition: ServiceDefinition): Promise<void> {
  const config = loadPlatformConfig(process.env);
  const logger = createLogger({
    service: definition.name,
    // startService adds `service` on its child logger; stamp the process here.
    field: "process",
    level: config.logLevel,
    ...(config.logFormat === "auto" ? {} : { pretty: config.logFormat === "pretty" }),
  });
  const deps = await createProcessDependencies(config, logger, { processName: definition.name });
  const running = await startService(definition, deps).catch(async (error: unknown) => {
    await deps.close();
    throw error;
  });
  onShutdownSignal(logger, () => runAll([() => running.stop(), () => deps.close()]));
}
