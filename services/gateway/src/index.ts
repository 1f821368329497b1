/** @tailor/gateway — the gateway service definition, for the all-in-one launcher and tests. */

export type { GatewayConfig } from "./config.js";
export { gatewaySpec, loadGatewayConfig } from "./config.js";
export type { HealthReport } from "./http/health-route.js";
export { HEALTH_CHECK_DEADLINE_MS } from "./http/health-route.js";
export type { GatewayServiceOptions } from "./service.js";
export { createGatewayService, gatewayService } from "./service.js";
