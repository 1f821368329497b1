import type { CatalogDependencies } from "./catalog-dependencies.js";

/** Work the catalog does on its own: scheduled syncs, the end-of-life policy file. */
export async function startBackgroundWork(_deps: CatalogDependencies): Promise<{ stop(): Promise<void> }> {
  return { async stop() {} };
}
