/** @tailor/resolver — the resolver service definition, for the all-in-one launcher and tests. */
export type { ResolverConfig } from "./config.js";
export { loadResolverConfig, resolverSpec } from "./config.js";
export type { ResolverServiceOptions } from "./service.js";
export { createResolverService, resolverService } from "./service.js";
export type { KnownPackage } from "./universe/known-package.js";
export type { PackageSource } from "./universe/universe-loader.js";
