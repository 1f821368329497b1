import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

/** GET /metrics: the process's Prometheus registry in text exposition format. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Registry): void {
  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.metrics();
    return reply.header("content-type", metrics.contentType).send(body);
  });
}
