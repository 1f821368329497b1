/** @tailor/builder — the builder service definition, for the all-in-one launcher and tests. */
export type { BuilderConfig, BuilderRole } from "./config.js";
export { builderSpec, loadBuilderConfig } from "./config.js";
export type { BuilderServiceOptions } from "./service.js";
export { builderService, createBuilderService } from "./service.js";
export type { Assembler, BuildCheckpoint } from "./workers/build-execution.js";
