/** The OCI image index (`application/vnd.oci.image.index.v1+json`). */
import { createDescriptor, type Descriptor, normalizeDescriptor } from "./descriptor.js";
import { encodeJson, sortedRecord } from "./encode-json.js";
import { MediaType } from "./media-type.js";

/** What an image index lists. */
export interface ImageIndexInput {
  /** The manifests, each with its `platform` for a multi-arch image; kept in the given order. */
  manifests: Descriptor[];
  /** Index annotations; written with sorted keys. */
  annotations?: Record<string, string>;
  /** The manifest this index refers to. */
  subject?: Descriptor;
}

/**
 * The image index as deterministic JSON and its descriptor. Field order:
 * schemaVersion, mediaType, manifests, subject, annotations.
 * @throws InvalidDigestError or OciError for a malformed descriptor.
 */
export function createImageIndex(input: ImageIndexInput): {
  bytes: Uint8Array;
  descriptor: Descriptor;
} {
  const document: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.imageIndex,
    manifests: input.manifests.map(normalizeDescriptor),
  };
  if (input.subject !== undefined) document.subject = normalizeDescriptor(input.subject);
  if (input.annotations !== undefined) document.annotations = sortedRecord(input.annotations);
  const bytes = encodeJson(document);
  return { bytes, descriptor: createDescriptor(MediaType.imageIndex, bytes) };
}
