/**
 * @tailor/blob — a content-addressed blob store (packages, layers,
 * manifests): blobs named by their sha256, streamed in and out, in a local
 * directory by default or in a NATS JetStream object store when builders run
 * on several machines.
 */

export type { BlobDigest } from "./blob-digest.js";
export { isBlobDigest, sha256Digest } from "./blob-digest.js";
export type { BlobSource } from "./blob-source.js";
export type { BlobInfo, BlobStore, GetOptions, PutOptions } from "./blob-store.js";
export type { DirectoryBlobStoreOptions } from "./directory-blob-store.js";
export { createDirectoryBlobStore } from "./directory-blob-store.js";
export {
  BlobDigestMismatchError,
  BlobError,
  BlobNotFoundError,
  BlobRangeError,
  BlobSizeMismatchError,
  BlobTooLargeError,
  InvalidBlobDigestError,
} from "./errors.js";
export type { NatsBlobStoreOptions } from "./nats-blob-store.js";
export { createNatsBlobStore } from "./nats-blob-store.js";
export type { OpenBlobStoreOptions } from "./open-blob-store.js";
export { openBlobStore } from "./open-blob-store.js";
export type { ReadBlobOptions } from "./read-blob.js";
export { defaultReadBlobMaxBytes, readBlob } from "./read-blob.js";
