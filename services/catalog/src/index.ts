/** @tailor/catalog — the catalog service definition, for the all-in-one launcher and tests. */
export { catalogService } from "./service.js";
