/** @tailor/entitlement — the entitlement service definition, for the all-in-one launcher and tests. */
export { entitlementService } from "./service.js";
export { migrations as entitlementMigrations } from "./store/migrations/index.js";
