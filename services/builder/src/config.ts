import { apiKeyEnvField } from "@tailor/auth";
import type { ConfigOf, Environment } from "@tailor/config";
import { env, loadConfig } from "@tailor/config";

/** TAILOR_SERVICE_API_KEY: checked for shape, never repeated in an error. */
const serviceApiKey = apiKeyEnvField(
  "TAILOR_SERVICE_API_KEY",
  'API key of the service identity "tailor-services"; builder workers and the rebuild planner call the catalog, entitlement and resolver with it. Unset: workers cannot build (every job fails with reason "no_service_credentials").',
);

/** What one builder process does. */
export type BuilderRole = "all" | "api" | "worker";

/** Variables the builder reads (documented in the README's configuration table). */
export const builderSpec = {
  serviceApiKey,
  role: env.oneOf("TAILOR_BUILDER_ROLE", ["all", "api", "worker"] as const, {
    default: "all",
    doc: "What this builder process runs: `api` (BuilderService, RegistryService, rebuild planner), `worker` (build jobs only; still serves gRPC health), or `all`.",
  }),
  workers: env.integer("TAILOR_BUILDER_WORKERS", {
    default: 2,
    min: 1,
    max: 64,
    doc: "Builds one worker process runs at once (all worker processes share the `builder-workers` consumer).",
  }),
  buildTimeoutSeconds: env.integer("TAILOR_BUILDER_TIMEOUT_SECONDS", {
    default: 3600,
    min: 1,
    doc: 'A build still running after this long fails with reason "timeout".',
  }),
  cacheDir: env.optionalString(
    "TAILOR_BUILDER_CACHE_DIR",
    "Per-worker content-addressed cache of package files; default `<TAILOR_DATA_DIR>/builder-cache`.",
  ),
  plannerDebounceMs: env.integer("TAILOR_BUILDER_PLANNER_DEBOUNCE_MS", {
    default: 3000,
    min: 0,
    doc: "Rebuild planner: catalog events for the same custom image within this window become one build.",
  }),
  uniqueTagOrgs: env.optionalString(
    "TAILOR_BUILDER_UNIQUE_TAG_ORGS",
    "Operator override: comma-separated organization names (or `*`) whose builds get unique tags `<version>-<YYYYMMDDHHMMSS>` even when the organization's own `unique_tags` setting is off; unset: only organizations that turned it on.",
  ),
  apkRepositoryUrl: env.optionalString(
    "TAILOR_BUILDER_APK_REPOSITORY_URL",
    "Base URL of the organizations' private APK repositories; `-dev` images list `<url>/<org name>` in /etc/apk/repositories. Unset: only the runtime repositories of the custom image.",
  ),
} as const;

/** The builder's own configuration. */
export type BuilderConfig = ConfigOf<typeof builderSpec>;

/** Reads the builder's variables; throws ConfigError listing every problem. */
export function loadBuilderConfig(environment: Environment): BuilderConfig {
  return loadConfig(builderSpec, environment);
}
