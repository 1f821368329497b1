/** @tailor/build-history — the build-history service definition, for the all-in-one launcher and tests. */
export { buildHistoryService } from "./service.js";
