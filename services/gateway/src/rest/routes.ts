import type { FastifyInstance } from "fastify";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { registerApiRoutes } from "./api-route.js";
import { buildRoutes } from "./build-routes.js";

/** Registers the REST API under /api/v1 and its OpenAPI document. */
export function registerRestApi(app: FastifyInstance, deps: GatewayDependencies): void {
  registerApiRoutes(app, deps, [...buildRoutes]);
}
