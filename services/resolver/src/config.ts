import { apiKeyEnvField } from "@tailor/auth";
import type { ConfigOf, Environment } from "@tailor/config";
import { env, loadConfig } from "@tailor/config";

/** TAILOR_SERVICE_API_KEY: checked for shape, never repeated in an error. */
const serviceApiKey = apiKeyEnvField(
  "TAILOR_SERVICE_API_KEY",
  'API key of the service identity "tailor-services" (see the entitlement service); the resolver reads the catalog with it. Unset: the resolver cannot load its package universe and stays NOT_SERVING.',
);

/** Variables the resolver reads (documented in the README's configuration table). */
export const resolverSpec = {
  serviceApiKey,
  reloadIntervalSeconds: env.integer("TAILOR_RESOLVER_RELOAD_SECONDS", {
    default: 900,
    min: 0,
    doc: "How often the resolver reloads its whole package universe from the catalog (picking up removed packages and end-of-life rules, which have no events); 0 turns it off.",
  }),
} as const;

/** The resolver's own configuration. */
export type ResolverConfig = ConfigOf<typeof resolverSpec>;

/** Reads the resolver's variables; throws ConfigError listing every problem. */
export function loadResolverConfig(environment: Environment): ResolverConfig {
  return loadConfig(resolverSpec, environment);
}
