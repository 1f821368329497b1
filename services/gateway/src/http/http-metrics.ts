import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { Histogram } from "prom-client";

/**
 * `tailor_http_request_duration_seconds{method,route,status}`: one
 * observation per answered request, labelled by the route pattern (never the
 * raw URL, so names and digests do not explode the series).
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Registry): void {
  const existing = metrics.getSingleMetric("tailor_http_request_duration_seconds");
  const histogram =
    (existing as Histogram<"method" | "route" | "status"> | undefined) ??
    new Histogram({
      name: "tailor_http_request_duration_seconds",
      help: "Gateway HTTP requests by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics],
    });
  app.addHook("onResponse", async (request, reply) => {
    histogram.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}
