import type { Logger } from "@tailor/log";
import type { ServiceClients } from "@tailor/service";
import { TAILOR_VERSION } from "@tailor/service";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import Fastify from "fastify";
import type { Registry } from "prom-client";
import { registerConsoleRoute } from "./console-route.js";
import { registerHealthRoute } from "./health-route.js";
import { registerMetricsRoute } from "./metrics-route.js";

/** What the gateway's HTTP app needs. */
export interface HttpAppDependencies {
  readonly logger: Logger;
  readonly clients: ServiceClients;
  readonly metrics: Registry;
}

/** Builds the gateway's fastify app with every route registered (not yet listening). */
export function createHttpApp(deps: HttpAppDependencies): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // Fastify's logger type is pino's base; our pino logger satisfies it.
    loggerInstance: deps.logger as FastifyBaseLogger,
    disableRequestLogging: true,
    // Keep-alive sockets must not hold a stopping gateway open.
    forceCloseConnections: true,
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      "http request",
    );
  });
  registerHealthRoute(app, deps.clients);
  registerMetricsRoute(app, deps.metrics);
  registerConsoleRoute(app, TAILOR_VERSION);
  return app;
}
