/** @tailor/gateway — the gateway service definition, for the all-in-one launcher and tests. */

export type { GatewayConfig } from "./config.js";
export { gatewaySpec, loadGatewayConfig } from "./config.js";
export type { HealthReport } from "./http/health-route.js";
export { HEALTH_CHECK_DEADLINE_MS } from "./http/health-route.js";
export type { ApiRoute } from "./rest/api-route.js";
export type { OpenApiDocument, OpenApiDocumentOptions } from "./rest/openapi.js";
export { buildOpenApiDocument } from "./rest/openapi.js";
export { OPENAPI_PATH, restRoutes } from "./rest/routes.js";
export type { GatewayServiceOptions } from "./service.js";
export { createGatewayService, gatewayService } from "./service.js";
