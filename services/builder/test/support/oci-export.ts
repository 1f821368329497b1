// Copies built images out of the blob store into an OCI image layout, so
// umoci and skopeo can read what the builder stored.
import type { BlobStore } from "@tailor/blob";
import { readBlob } from "@tailor/blob";
import type { Descriptor } from "@tailor/oci";
import { createDirectoryLayoutFiles, MediaType, withRefName, writeOciLayout } from "@tailor/oci";

interface ManifestDocument {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

/**
 * Writes `dir` as an OCI layout with one `index.json` entry per ref, each
 * pointing at a manifest or index of the blob store; every blob they
 * reference (child manifests, configs, layers) is copied.
 */
export async function exportLayout(
  blobs: BlobStore,
  dir: string,
  refs: Readonly<Record<string, string>>,
): Promise<void> {
  const files = createDirectoryLayoutFiles(dir);
  const entries: Descriptor[] = [];
  async function copy(digest: string): Promise<Uint8Array> {
    const bytes = await readBlob(blobs, digest);
    await files.writeBlob(digest, bytes);
    return bytes;
  }
  async function copyTree(digest: string): Promise<Descriptor> {
    const bytes = await copy(digest);
    const document = JSON.parse(new TextDecoder().decode(bytes)) as ManifestDocument;
    for (const child of document.manifests ?? []) await copyTree(child.digest);
    for (const blob of [
      ...(document.config ? [document.config] : []),
      ...(document.layers ?? []),
    ]) {
      if (!(await files.hasBlob(blob.digest))) await copy(blob.digest);
    }
    return {
      mediaType: document.mediaType ?? MediaType.imageManifest,
      digest,
      size: bytes.byteLength,
    };
  }
  for (const [ref, digest] of Object.entries(refs)) {
    entries.push(withRefName(await copyTree(digest), ref));
  }
  await writeOciLayout(files, { manifests: entries });
}
