import { apiKeyEnvField } from "@tailor/auth";
import type { ConfigOf, Environment } from "@tailor/config";
import { loadConfig } from "@tailor/config";

/** Variables only the entitlement service reads (documented in the README's configuration table). */
export const entitlementSpec = {
  bootstrapAdminKey: apiKeyEnvField(
    "TAILOR_BOOTSTRAP_ADMIN_KEY",
    'API key (tlr_<id>_<secret>) of the platform administrator "admin", created at start when missing; a new value adds a key, old ones stay until revoked. Unset: no administrator is created.',
  ),
  serviceApiKey: apiKeyEnvField(
    "TAILOR_SERVICE_API_KEY",
    'API key (tlr_<id>_<secret>) services use among themselves (e.g. the resolver reading the catalog), held by the administrator identity "tailor-services" created at start when missing. Set the same value on the entitlement service and on every service that calls others as itself. Unset: no service identity is created.',
  ),
} as const;

/** The entitlement service's own configuration. */
export type EntitlementConfig = ConfigOf<typeof entitlementSpec>;

/** Reads the entitlement service's variables; throws ConfigError listing every problem. */
export function loadEntitlementConfig(environment: Environment): EntitlementConfig {
  return loadConfig(entitlementSpec, environment);
}
