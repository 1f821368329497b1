import type { FastifyInstance } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";

/** Registers the OCI distribution pull API (/v2) and the registry token endpoint. */
export function registerRegistry(app: FastifyInstance, deps: GatewayDependencies): void {
  void app;
  void deps;
}
