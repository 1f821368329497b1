import type { ServiceImpl } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import type { CatalogDependencies } from "../catalog-dependencies.js";

type CatalogImpl = ServiceImpl<typeof catalogV1.CatalogService>;

/** Handlers for repositories, syncs, uploads, package queries and end-of-life rules. */
export type PackageHandlers = Pick<
  CatalogImpl,
  | "createRepository"
  | "updateRepository"
  | "getRepository"
  | "listRepositories"
  | "syncRepository"
  | "listRepositorySyncs"
  | "publishPackage"
  | "searchPackages"
  | "listPackageVersions"
  | "getPackage"
  | "findProviders"
  | "fetchPackage"
  | "listIndexEntries"
  | "setEndOfLife"
  | "listEndOfLife"
>;

/** gRPC handlers of the package half of tailor.catalog.v1.CatalogService. */
export function createPackageHandlers(_deps: CatalogDependencies): PackageHandlers {
  throw new Error("not built yet");
}
