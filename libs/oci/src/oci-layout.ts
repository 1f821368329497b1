/** The OCI image layout: `oci-layout`, `index.json` and `blobs/sha256/<hex>`, through a caller-supplied file system. */
import type { Descriptor } from "./descriptor.js";
import { digestHex } from "./digest.js";
import { encodeJson } from "./encode-json.js";
import { createImageIndex } from "./image-index.js";
import { Annotation } from "./media-type.js";

/** Where a layout is written; {@link createDirectoryLayoutFiles} is the file-system implementation. */
export interface LayoutFiles {
  /** Writes (replaces) a small file at a path relative to the layout root (`index.json`, `oci-layout`). */
  writeFile(relativePath: string, bytes: Uint8Array): Promise<void>;
  /** Stores a blob under `blobs/sha256/<hex>`; the content must hash to `digest`. */
  writeBlob(digest: string, source: AsyncIterable<Uint8Array> | Uint8Array): Promise<void>;
  /** Whether the blob is stored already. */
  hasBlob(digest: string): Promise<boolean>;
}

/** The layout's top-level index: manifests or indexes, each tagged with a `org.opencontainers.image.ref.name` annotation. */
export interface LayoutIndex {
  /** The entry points; see {@link withRefName} for tags. */
  manifests: (Descriptor & { annotations?: Record<string, string> })[];
  /** Annotations of `index.json` itself. */
  annotations?: Record<string, string>;
}

/** A blob to store with the layout: its descriptor and its content. */
export interface LayoutBlob {
  /** The blob's descriptor (only the digest is used). */
  descriptor: Pick<Descriptor, "digest">;
  /** The content, or a function opening it (called only when the blob is missing). */
  source:
    | Uint8Array
    | AsyncIterable<Uint8Array>
    | (() => Promise<Uint8Array | AsyncIterable<Uint8Array>>);
}

/** The content of `oci-layout`. */
export const OCI_LAYOUT_FILE = encodeJson({ imageLayoutVersion: "1.0.0" });

/**
 * Writes an image layout: first the given `blobs` that `files` lacks, then
 * `oci-layout` ({"imageLayoutVersion":"1.0.0"}), then `index.json` (an image
 * index over `index.manifests`), so a reader never sees an index pointing at
 * missing blobs. Blobs referenced by the index must be stored by the caller
 * or passed in `blobs`.
 * @throws InvalidDigestError for a malformed digest; whatever `files` throws.
 */
export async function writeOciLayout(
  files: LayoutFiles,
  index: LayoutIndex,
  blobs: Iterable<LayoutBlob> = [],
): Promise<void> {
  for (const blob of blobs) {
    digestHex(blob.descriptor.digest);
    if (await files.hasBlob(blob.descriptor.digest)) continue;
    const source = typeof blob.source === "function" ? await blob.source() : blob.source;
    await files.writeBlob(blob.descriptor.digest, source);
  }
  await files.writeFile("oci-layout", OCI_LAYOUT_FILE);
  const { bytes } = createImageIndex({
    manifests: index.manifests,
    ...(index.annotations === undefined ? {} : { annotations: index.annotations }),
  });
  await files.writeFile("index.json", bytes);
}

/** A copy of `descriptor` tagged `tag` for a layout's `index.json` (`org.opencontainers.image.ref.name`). */
export function withRefName<T extends Descriptor>(descriptor: T, tag: string): T {
  return { ...descriptor, annotations: { ...descriptor.annotations, [Annotation.refName]: tag } };
}
