/** @tailor/entitlement — the entitlement service definition, for the all-in-one launcher and tests. */
export type { EntitlementConfig } from "./config.js";
export { entitlementSpec, loadEntitlementConfig } from "./config.js";
export type { EntitlementServiceOptions } from "./service.js";
export { createEntitlementService, entitlementService } from "./service.js";
export { migrations as entitlementMigrations } from "./store/migrations/index.js";
export {
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  RETIRED_KEY_VERIFICATION_SECONDS,
} from "./tokens/token-lifetime.js";
