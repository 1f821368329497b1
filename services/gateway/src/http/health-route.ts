import { SERVICE_NAMES } from "@tailor/config";
import type { ServiceClients, ServiceHealth } from "@tailor/service";
import type { FastifyInstance } from "fastify";

/** How long /healthz waits for each service's answer. */
export const HEALTH_CHECK_DEADLINE_MS = 2000;

/** Body of GET /healthz. */
export interface HealthReport {
  /** SERVING only when every service answers SERVING. */
  readonly status: "SERVING" | "NOT_SERVING";
  readonly services: Record<string, ServiceHealth>;
}

/**
 * GET /healthz: asks every service's grpc.health.v1 endpoint in parallel,
 * each with a deadline; 200 when all serve, 503 otherwise, with the details.
 */
export function registerHealthRoute(app: FastifyInstance, clients: ServiceClients): void {
  app.get("/healthz", async (_request, reply) => {
    const results = await Promise.all(
      SERVICE_NAMES.map(
        async (name) => [name, await clients.health(name, HEALTH_CHECK_DEADLINE_MS)] as const,
      ),
    );
    const services = Object.fromEntries(results);
    const serving = results.every(([, health]) => health.status === "SERVING");
    const report: HealthReport = { status: serving ? "SERVING" : "NOT_SERVING", services };
    return reply.code(serving ? 200 : 503).send(report);
  });
}
