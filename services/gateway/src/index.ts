/** @tailor/gateway — the gateway service definition, for the all-in-one launcher and tests. */

export type { HealthReport } from "./http/health-route.js";
export { HEALTH_CHECK_DEADLINE_MS } from "./http/health-route.js";
export { gatewayService } from "./service.js";
