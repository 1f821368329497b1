import type { ApkPackage } from "@tailor/apk";
import { ApkError, AtomError, indexEntryFromPackage, readPackage } from "@tailor/apk";
import { BlobNotFoundError, isBlobDigest } from "@tailor/blob";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import { enqueuePackagesPublished } from "../events/package-events.js";
import {
  InvalidFieldError,
  RepositoryKindError,
  RepositoryNotFoundError,
} from "../repositories/errors.js";
import { NOARCH, repositoryKeyring, validateRepositoryName } from "../repositories/repository.js";
import { findPackage, insertPackages } from "../store/package-store.js";
import { findRepository, isUniqueViolation } from "../store/repository-store.js";
import {
  InvalidPackageError,
  PackageVersionConflictError,
  UntrustedPackageError,
  UploadBlobNotFoundError,
} from "./errors.js";
import type { CatalogPackage } from "./package.js";
import { describePackage, isPathSafe, packageFromIndexEntry } from "./package.js";

/** What an administrator uploads. */
export interface PackageUpload {
  readonly repository: string;
  /** The .apk bytes; empty when `blobDigest` is given. */
  readonly content: Uint8Array;
  /** "sha256:…" of bytes already in the blob store; "" when `content` is given. */
  readonly blobDigest: string;
}

/** What a publish stored (or found already stored). */
export interface PublishedPackage {
  /** The package as listed under the first arch it went to. */
  readonly pkg: CatalogPackage;
  /** False when the identical package was there already (nothing changed, nothing published). */
  readonly created: boolean;
}

/**
 * Accepts a signed .apk into a hosted repository: verifies its signature with
 * the repository's trusted keys (and its data against the signed datahash),
 * stores its bytes, lists it under its arch (a noarch package under every
 * arch of the repository) and announces it. Publishing the identical package
 * again changes nothing.
 * @throws InvalidFieldError, RepositoryNotFoundError, RepositoryKindError,
 *   UploadBlobNotFoundError, InvalidPackageError, UntrustedPackageError, PackageVersionConflictError
 */
export async function publishPackage(
  deps: CatalogDependencies,
  upload: PackageUpload,
): Promise<PublishedPackage> {
  validateRepositoryName(upload.repository, "repository");
  const repository = await findRepository(deps.db, upload.repository);
  if (repository === undefined) throw new RepositoryNotFoundError(upload.repository, "repository");
  if (repository.kind !== "hosted") {
    throw new RepositoryKindError(
      repository.name,
      repository.kind,
      `repository "${repository.name}" is upstream: its packages come from its index; publish into a hosted repository`,
    );
  }
  const { bytes, size, storedDigest } = await uploadedBytes(deps, upload);
  const keyring = repositoryKeyring(repository);
  let read: ApkPackage;
  try {
    // Signatures are checked below, to tell an unsigned package from one signed by an unknown key.
    read = await readPackage(bytes, { file: "upload", keyring, requireSignature: false });
  } catch (error) {
    if (error instanceof ApkError)
      throw new InvalidPackageError("content", error.message, { cause: error });
    throw error;
  }
  if (!read.signatures.some((signature) => signature.verdict === "ok")) {
    if (read.signatures.length === 0) {
      throw new InvalidPackageError(
        "content",
        "upload: UNTRUSTED signature: the package is not signed; sign it with a key the repository trusts (abuild-sign or melange sign)",
      );
    }
    throw new UntrustedPackageError(
      repository.name,
      read.signatures.map((signature) => signature.keyName),
      keyring.names,
    );
  }
  let entry: ReturnType<typeof indexEntryFromPackage>;
  try {
    entry = indexEntryFromPackage(read, size);
  } catch (error) {
    if (error instanceof AtomError)
      throw new InvalidPackageError("content", `upload: ${error.message}`, { cause: error });
    throw error;
  }
  if (!isPathSafe(entry.name) || !isPathSafe(entry.version)) {
    throw new InvalidPackageError(
      "content",
      `upload: package name "${entry.name}" or version "${entry.version}" cannot be a file name`,
    );
  }
  const packageArch = entry.arch ?? NOARCH;
  const arches = packageArch === NOARCH ? [...repository.arches] : [packageArch];
  if (packageArch !== NOARCH && !repository.arches.includes(packageArch)) {
    throw new InvalidPackageError(
      "content",
      `package ${entry.name}-${entry.version} is built for arch "${packageArch}", which repository "${repository.name}" does not have (arches: ${repository.arches.join(", ")})`,
    );
  }

  const existing = await existingVersions(
    deps,
    repository.name,
    arches,
    entry.name,
    entry.version,
    entry.checksum,
  );
  if (existing.missing.length === 0 && existing.first !== undefined) {
    await ensureBytes(deps, existing.first, bytes, storedDigest);
    return { pkg: existing.first, created: false };
  }
  const blobDigest =
    storedDigest ?? (await deps.blobs.put(bytes as Uint8Array, { expectedSize: size })).digest;
  const packages = existing.missing.map((arch) =>
    packageFromIndexEntry(repository.name, arch, entry, "upload", blobDigest),
  );
  try {
    await deps.db.transaction().execute(async (trx) => {
      const at = deps.now();
      await insertPackages(trx, packages, at);
      await enqueuePackagesPublished(trx, packages, at);
    });
  } catch (error) {
    // Another publish of the same version won the race: same checksum is fine, another is a conflict.
    if (!isUniqueViolation(error)) throw error;
    const again = await existingVersions(
      deps,
      repository.name,
      arches,
      entry.name,
      entry.version,
      entry.checksum,
    );
    if (again.missing.length > 0 || again.first === undefined) throw error;
    return { pkg: again.first, created: false };
  }
  await deps.events.flushAfterCommit();
  deps.logger.info(
    { package: `${repository.name}/${entry.name}-${entry.version}`, arches, blobDigest },
    "published package",
  );
  return { pkg: packages[0] as CatalogPackage, created: true };
}

/** The upload's bytes: the request content, or a blob already in the store (streamed, never buffered). */
async function uploadedBytes(
  deps: CatalogDependencies,
  upload: PackageUpload,
): Promise<{
  bytes: Uint8Array | AsyncIterable<Uint8Array>;
  size: number;
  storedDigest: string | undefined;
}> {
  const digest = upload.blobDigest.trim();
  if (upload.content.byteLength > 0 && digest !== "") {
    throw new InvalidFieldError("blob_digest", "give either content or blob_digest, not both");
  }
  if (digest === "") {
    if (upload.content.byteLength === 0)
      throw new InvalidFieldError(
        "content",
        "content is empty: send the .apk bytes, or a blob_digest of bytes in the blob store",
      );
    if (upload.content.byteLength > deps.config.maxPackageBytes) {
      throw new InvalidFieldError(
        "content",
        `package is ${upload.content.byteLength} bytes, more than the limit of ${deps.config.maxPackageBytes} (TAILOR_CATALOG_MAX_PACKAGE_BYTES)`,
      );
    }
    return { bytes: upload.content, size: upload.content.byteLength, storedDigest: undefined };
  }
  if (!isBlobDigest(digest)) {
    throw new InvalidFieldError(
      "blob_digest",
      `blob_digest ${JSON.stringify(upload.blobDigest)} is invalid: expected "sha256:" and 64 lowercase hex digits`,
    );
  }
  const info = await deps.blobs.stat(digest);
  if (info === undefined) throw new UploadBlobNotFoundError(digest);
  if (info.size > deps.config.maxPackageBytes) {
    throw new InvalidFieldError(
      "blob_digest",
      `blob ${digest} is ${info.size} bytes, more than the limit of ${deps.config.maxPackageBytes} (TAILOR_CATALOG_MAX_PACKAGE_BYTES)`,
    );
  }
  try {
    return { bytes: await deps.blobs.get(digest), size: info.size, storedDigest: digest };
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw new UploadBlobNotFoundError(digest);
    throw error;
  }
}

/** Which of `arches` lack this version; ALREADY_EXISTS when one holds it with another checksum. */
async function existingVersions(
  deps: CatalogDependencies,
  repository: string,
  arches: readonly string[],
  name: string,
  version: string,
  checksum: string,
): Promise<{ missing: string[]; first: CatalogPackage | undefined }> {
  const missing: string[] = [];
  let first: CatalogPackage | undefined;
  for (const arch of arches) {
    const stored = await findPackage(deps.db, { repository, arch, name, version });
    if (stored === undefined) {
      missing.push(arch);
      continue;
    }
    if (stored.checksum !== checksum)
      throw new PackageVersionConflictError(describePackage(stored), stored.checksum, checksum);
    first ??= stored;
  }
  return { missing, first };
}

/** An identical re-publish also repairs a blob that went missing. */
async function ensureBytes(
  deps: CatalogDependencies,
  pkg: CatalogPackage,
  bytes: Uint8Array | AsyncIterable<Uint8Array>,
  storedDigest: string | undefined,
): Promise<void> {
  if (storedDigest !== undefined || pkg.blobDigest === undefined) return;
  if (await deps.blobs.has(pkg.blobDigest)) return;
  if (bytes instanceof Uint8Array) await deps.blobs.put(bytes, { expectedDigest: pkg.blobDigest });
}
