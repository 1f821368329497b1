/** @tailor/catalog — the catalog service definition, for the all-in-one launcher and tests. */
export type { CatalogConfig } from "./config.js";
export { catalogSpec, loadCatalogConfig } from "./config.js";
export type { CatalogServiceOptions } from "./service.js";
export { catalogService, createCatalogService } from "./service.js";
