/**
 * Media types and annotation keys of the OCI image spec (v1.1) that Tailor
 * writes.
 */

/** Media types of the documents and blobs Tailor writes. */
export const MediaType = {
  imageIndex: "application/vnd.oci.image.index.v1+json",
  imageManifest: "application/vnd.oci.image.manifest.v1+json",
  imageConfig: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  spdxJson: "application/spdx+json",
  inTotoJson: "application/vnd.in-toto+json",
} as const;

/** Pre-defined annotation keys (image-spec `annotations.md`). */
export const Annotation = {
  /** The tag of a manifest in an image layout's `index.json`. */
  refName: "org.opencontainers.image.ref.name",
  /** Date and time the image was built (RFC 3339). */
  created: "org.opencontainers.image.created",
  /** Version of the packaged software. */
  version: "org.opencontainers.image.version",
  /** Digest of the image this one is based on. */
  baseDigest: "org.opencontainers.image.base.digest",
  /** Reference of the image this one is based on. */
  baseName: "org.opencontainers.image.base.name",
  /** Title of the image. */
  title: "org.opencontainers.image.title",
  /** Source code URL. */
  source: "org.opencontainers.image.source",
  /** Licenses of the contained software (SPDX expression). */
  licenses: "org.opencontainers.image.licenses",
} as const;
