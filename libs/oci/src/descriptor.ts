/** OCI content descriptors. */
import { isSha256Digest, sha256Digest } from "./digest.js";
import { sortedRecord } from "./encode-json.js";
import { InvalidDigestError, OciError } from "./errors.js";
import type { Platform } from "./platform.js";

/** A reference to a blob: its media type, digest and size, with optional annotations and platform. */
export interface Descriptor {
  /** Media type of the referenced content. */
  mediaType: string;
  /** `sha256:<hex>` of the content. */
  digest: string;
  /** Size of the content in bytes. */
  size: number;
  /** Arbitrary metadata; written with sorted keys. */
  annotations?: Record<string, string>;
  /** Platform of a manifest listed in an image index. */
  platform?: Platform;
  /** Type of an artifact when the descriptor points to an artifact manifest. */
  artifactType?: string;
}

/**
 * A descriptor of `bytes` with the given media type.
 * @example createDescriptor(MediaType.spdxJson, sbomBytes)
 */
export function createDescriptor(
  mediaType: string,
  bytes: Uint8Array,
  extra: Pick<Descriptor, "annotations" | "platform" | "artifactType"> = {},
): Descriptor {
  return normalizeDescriptor({
    mediaType,
    digest: sha256Digest(bytes),
    size: bytes.length,
    ...extra,
  });
}

/**
 * A copy of `descriptor` holding only OCI fields, in the image spec's field
 * order (mediaType, digest, size, annotations, platform, artifactType), with
 * annotation keys sorted: what goes into a manifest or index.
 * @throws InvalidDigestError for a malformed digest; OciError for a bad size or empty media type.
 */
export function normalizeDescriptor(descriptor: Descriptor): Descriptor {
  if (typeof descriptor.mediaType !== "string" || descriptor.mediaType === "") {
    throw new OciError(`descriptor of ${descriptor.digest} has no media type`);
  }
  if (!isSha256Digest(descriptor.digest)) throw new InvalidDigestError(descriptor.digest);
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
    throw new OciError(
      `descriptor of ${descriptor.digest} has size ${descriptor.size}, not a non-negative integer`,
    );
  }
  const out: Descriptor = {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  if (descriptor.annotations !== undefined) out.annotations = sortedRecord(descriptor.annotations);
  if (descriptor.platform !== undefined) out.platform = normalizePlatform(descriptor.platform);
  if (descriptor.artifactType !== undefined) out.artifactType = descriptor.artifactType;
  return out;
}

/** A platform in the image spec's field order. */
export function normalizePlatform(platform: Platform): Platform {
  const out: Platform = { architecture: platform.architecture, os: platform.os };
  if (platform.variant !== undefined) out.variant = platform.variant;
  return out;
}
