/** The OCI image manifest (`application/vnd.oci.image.manifest.v1+json`). */
import { createDescriptor, type Descriptor, normalizeDescriptor } from "./descriptor.js";
import { encodeJson, sortedRecord } from "./encode-json.js";
import { MediaType } from "./media-type.js";

/** What an image manifest lists. */
export interface ImageManifestInput {
  /** The image configuration (or an artifact's config blob). */
  config: Descriptor;
  /** The layers, bottom first. */
  layers: Descriptor[];
  /** Manifest annotations; written with sorted keys. */
  annotations?: Record<string, string>;
  /** The manifest this one refers to (an SBOM or attestation artifact's image). */
  subject?: Descriptor;
  /** Set for artifact manifests (e.g. `application/spdx+json`); also copied to the returned descriptor. */
  artifactType?: string;
}

/**
 * The image manifest as deterministic JSON and its descriptor. Field order:
 * schemaVersion, mediaType, artifactType, config, layers, subject, annotations.
 * @throws InvalidDigestError or OciError for a malformed descriptor.
 */
export function createImageManifest(input: ImageManifestInput): {
  bytes: Uint8Array;
  descriptor: Descriptor;
} {
  const document: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.imageManifest,
  };
  if (input.artifactType !== undefined) document.artifactType = input.artifactType;
  document.config = normalizeDescriptor(input.config);
  document.layers = input.layers.map(normalizeDescriptor);
  if (input.subject !== undefined) document.subject = normalizeDescriptor(input.subject);
  if (input.annotations !== undefined) document.annotations = sortedRecord(input.annotations);
  const bytes = encodeJson(document);
  return {
    bytes,
    descriptor: createDescriptor(
      MediaType.imageManifest,
      bytes,
      input.artifactType === undefined ? {} : { artifactType: input.artifactType },
    ),
  };
}
