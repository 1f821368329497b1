/** @tailor/build-history — the build-history service definition, for the all-in-one launcher and tests. */
export type { BuildHistoryConfig } from "./config.js";
export { buildHistorySpec, loadBuildHistoryConfig } from "./config.js";
export type { BuildHistoryServiceOptions } from "./service.js";
export { buildHistoryService, createBuildHistoryService } from "./service.js";
