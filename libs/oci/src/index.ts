/**
 * @tailor/oci: OCI image-spec code. Deterministic tar+gzip layers written in
 * one streaming pass, image config, manifest and index documents as
 * deterministic JSON, and the OCI image layout through a caller-supplied
 * file system. No I/O of its own except {@link createDirectoryLayoutFiles}.
 */
export type { Descriptor } from "./descriptor.js";
export { createDescriptor, normalizeDescriptor, normalizePlatform } from "./descriptor.js";
export { digestHex, isSha256Digest, sha256Digest } from "./digest.js";
export { createDirectoryLayoutFiles } from "./directory-layout-files.js";
export { encodeJson } from "./encode-json.js";
export {
  DigestMismatchError,
  InvalidDigestError,
  InvalidLayerEntryError,
  InvalidLayoutPathError,
  OciError,
  UnknownArchitectureError,
} from "./errors.js";
export type { ImageConfigInput, ImageHistoryInput } from "./image-config.js";
export { createImageConfig } from "./image-config.js";
export type { ImageIndexInput } from "./image-index.js";
export { createImageIndex } from "./image-index.js";
export type { ImageManifestInput } from "./image-manifest.js";
export { createImageManifest } from "./image-manifest.js";
export type { LayerEntry, LayerEntryType } from "./layer-entry.js";
export type { WriteLayerOptions, WrittenLayer } from "./layer-writer.js";
export { DEFAULT_GZIP_LEVEL, writeLayer } from "./layer-writer.js";
export { Annotation, MediaType } from "./media-type.js";
export type { LayoutBlob, LayoutFiles, LayoutIndex } from "./oci-layout.js";
export { OCI_LAYOUT_FILE, withRefName, writeOciLayout } from "./oci-layout.js";
export type { Platform } from "./platform.js";
export { platformForApkArch } from "./platform.js";
export { createTarStream } from "./tar-stream.js";
export { formatOciTimestamp } from "./timestamp.js";
