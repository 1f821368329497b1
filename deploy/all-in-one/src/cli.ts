#!/usr/bin/env node
// `npm start`: every Tailor service in this process on embedded defaults.
import { createLogger } from "@tailor/log";
import { onShutdownSignal } from "@tailor/service";
import { startAllInOne } from "./all-in-one.js";

const logger = createLogger({ service: "tailor", field: "process" });
try {
  const tailor = await startAllInOne({ logger });
  const shutdown = onShutdownSignal(logger, () => tailor.stop());
  // If the npm that started us dies without passing a signal on (SIGKILL,
  // a crashed terminal), stop as if signalled rather than linger as an orphan.
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) shutdown("parent-exited");
    }, 250).unref();
  }
  const names = tailor.services.map((s) => `${s.name}@${s.address}`).join(", ");
  logger.info({ services: names, nats: tailor.natsUrl }, "all services started");
  const adminKey =
    tailor.adminKey.source === "environment"
      ? "the administrator API key is TAILOR_BOOTSTRAP_ADMIN_KEY"
      : `the administrator API key is in ${tailor.adminKey.source}`;
  console.log(
    `\n  Tailor is running. Console: ${tailor.httpUrl}/   Health: ${tailor.httpUrl}/healthz\n  Sign in: ${adminKey}.\n  Stop with Ctrl-C.\n`,
  );
} catch (error) {
  logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
}
