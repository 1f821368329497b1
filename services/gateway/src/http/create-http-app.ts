import { randomUUID } from "node:crypto";
import type { ServiceClients } from "@tailor/service";
import { TAILOR_VERSION } from "@tailor/service";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import Fastify, { LogController } from "fastify";
import type { Registry } from "prom-client";
import { registerApkRepositories } from "../apk/routes.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { registerRegistry } from "../registry/routes.js";
import { registerRestApi } from "../rest/routes.js";
import { registerConsoleRoute } from "./console-route.js";
import { registerHealthRoute } from "./health-route.js";
import { registerHttpMetrics } from "./http-metrics.js";
import { registerMetricsRoute } from "./metrics-route.js";

/** What the gateway's HTTP app needs. */
export interface HttpAppDependencies {
  readonly deps: GatewayDependencies;
  readonly clients: ServiceClients;
  readonly metrics: Registry;
}

/** Request ids a client may choose: short, printable, no spaces. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Largest request body the REST API accepts (custom image YAML, overlays). */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Builds the gateway's fastify app with every route registered (not yet
 * listening). Every request gets an id (the client's `x-request-id` when it
 * is sane, else a UUID), echoed in the response and passed to the services
 * it calls, and one structured access-log line.
 */
export function createHttpApp({ deps, clients, metrics }: HttpAppDependencies): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // Fastify's logger type is pino's base; our pino logger satisfies it.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One access-log line per request comes from the onResponse hook below.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: "requestId",
    }),
    // Keep-alive sockets must not hold a stopping gateway open.
    forceCloseConnections: true,
    bodyLimit: BODY_LIMIT_BYTES,
    // Forwarded headers only from proxies the operator named; anyone else could fake their address.
    trustProxy: trustedProxies(deps.config.trustedProxies),
    // Tags may be 128 characters; fastify's default stops matching parameters at 100.
    routerOptions: { maxParamLength: 256 },
    genReqId(request) {
      const offered = request.headers["x-request-id"];
      return typeof offered === "string" && CLIENT_REQUEST_ID.test(offered)
        ? offered
        : randomUUID();
    },
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.routeOptions.url ?? "(no route)",
        url: request.url.length > 512 ? `${request.url.slice(0, 512)}…` : request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        remote: request.ip,
        userAgent: request.headers["user-agent"],
      },
      "http request",
    );
  });
  registerHttpMetrics(app, metrics);
  registerHealthRoute(app, clients);
  registerMetricsRoute(app, metrics);
  registerRestApi(app, deps);
  registerRegistry(app, deps);
  registerApkRepositories(app, deps);
  registerConsoleRoute(app, TAILOR_VERSION, deps.config.consoleDir);
  return app;
}

/** TAILOR_GATEWAY_TRUSTED_PROXIES as fastify's trustProxy: a list of addresses/CIDRs, or none. */
function trustedProxies(configured: string | undefined): string[] | false {
  const list = (configured ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return list.length === 0 ? false : list;
}
