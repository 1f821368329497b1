import type { ConfigOf, Environment } from "@tailor/config";
import { env, loadConfig } from "@tailor/config";

/** Variables the build-history service reads (documented in the README's configuration table). */
export const buildHistorySpec = {
  retentionDays: env.integer("TAILOR_BUILD_HISTORY_RETENTION_DAYS", {
    default: 90,
    min: 1,
    doc: "Build records, their log lines and superseded tag moves older than this many days are pruned (hourly). Images themselves stay in the registry.",
  }),
} as const;

/** The build-history service's own configuration. */
export type BuildHistoryConfig = ConfigOf<typeof buildHistorySpec>;

/** Reads the build-history variables; throws ConfigError listing every problem. */
export function loadBuildHistoryConfig(environment: Environment): BuildHistoryConfig {
  return loadConfig(buildHistorySpec, environment);
}
