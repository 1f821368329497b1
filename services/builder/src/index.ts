/** @tailor/builder — the builder service definition, for the all-in-one launcher and tests. */
export { builderService } from "./service.js";
