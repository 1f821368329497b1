/**
 * @tailor/assembly — assembles an OCI image (one architecture, one variant)
 * from a resolved closure of APK packages. Each package's data segment is
 * checked once and then reused verbatim as a layer; small packages share
 * merged layers within a layer budget; a generated top layer holds the apk
 * database, settings, accounts, certificates and the SBOM. Pure domain code:
 * package bytes, the cache and the blob sink are passed in.
 */

export { accountFiles } from "./accounts-files.js";
export type {
  AssembleDependencies,
  AssembledImage,
  AssembleInput,
} from "./assemble-image.js";
export { ASSEMBLER_TOOL, assembleImage } from "./assemble-image.js";
export type { BlobSink } from "./blob-sink.js";
export { createMemoryBlobSink } from "./blob-sink.js";
export {
  AssemblyError,
  FileConflictError,
  InvalidAssemblyInputError,
  LayerBudgetError,
  PackageRejectedError,
} from "./errors.js";
export type {
  AccountGroup,
  Accounts,
  AccountUser,
  ApkKey,
  ImageDefinition,
} from "./image-definition.js";
export { DEFAULT_PATH, mergeImageDefinitions } from "./image-definition.js";
export type {
  LayerCache,
  PackageFileInfo,
  PackageLayerInfo,
  WrittenLayerInfo,
} from "./layer-cache.js";
export { createMemoryLayerCache } from "./layer-cache.js";
export {
  DEFAULT_LAYER_BUDGET,
  DEFAULT_MERGE_BELOW_BYTES,
  MAX_LAYER_BUDGET,
} from "./layer-plan.js";
export type { OsRelease } from "./os-release.js";
export { formatOsRelease } from "./os-release.js";
export type { PackageLimits } from "./package-inspection.js";
export {
  DEFAULT_PACKAGE_LIMITS,
  INSPECTION_VERSION,
  inspectPackage,
} from "./package-inspection.js";
export type { PackageSource } from "./package-source.js";
export type { SbomInput, SbomPackage } from "./spdx-sbom.js";
export { apkPurl, createSpdxSbom } from "./spdx-sbom.js";
export { GeneratedPath } from "./top-layer.js";
