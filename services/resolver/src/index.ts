/** @tailor/resolver — the resolver service definition, for the all-in-one launcher and tests. */
export { resolverService } from "./service.js";
