import type { ConfigOf, Environment } from "@tailor/config";
import { env, loadConfig } from "@tailor/config";

/** Variables only the catalog reads (documented in the README's configuration table). */
export const catalogSpec = {
  syncIntervalSeconds: env.integer("TAILOR_CATALOG_SYNC_INTERVAL_SECONDS", {
    default: 3600,
    min: 0,
    doc: "How often every upstream repository is synced; 0 turns scheduled syncs off (SyncRepository still works).",
  }),
  endOfLifePolicy: env.optionalString(
    "TAILOR_CATALOG_EOL_POLICY",
    "YAML file of end-of-life rules (package streams no longer offered for new customizations), applied at start.",
  ),
  maxPackageBytes: env.integer("TAILOR_CATALOG_MAX_PACKAGE_BYTES", {
    default: 512 * 1024 * 1024,
    min: 1024,
    doc: "Largest .apk the catalog downloads or accepts, in bytes.",
  }),
} as const;

/** The catalog's own configuration. */
export type CatalogConfig = ConfigOf<typeof catalogSpec>;

/** Reads the catalog's variables; throws ConfigError listing every problem. */
export function loadCatalogConfig(environment: Environment): CatalogConfig {
  return loadConfig(catalogSpec, environment);
}
