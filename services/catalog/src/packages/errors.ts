/** No package has the given repository, arch, name and version. */
export class PackageNotFoundError extends Error {
  override readonly name = "PackageNotFoundError";
  constructor(readonly packageId: string) {
    super(`package ${packageId} not found`);
  }
}

/**
 * Downloaded package bytes are not what the signed index promised: another
 * checksum, or a damaged or altered file. Nothing was stored.
 */
export class PackageVerificationError extends Error {
  override readonly name = "PackageVerificationError";
  constructor(
    readonly packageId: string,
    readonly reason: "checksum_mismatch" | "corrupt",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A package's bytes should be in the blob store and are not (a hosted package's blob was deleted). */
export class PackageBytesMissingError extends Error {
  override readonly name = "PackageBytesMissingError";
  constructor(
    readonly packageId: string,
    readonly blobDigest: string | undefined,
  ) {
    super(
      `package ${packageId} has no bytes in the blob store${blobDigest === undefined ? "" : ` (expected ${blobDigest})`} and its repository is hosted, so there is nowhere to download them from: publish it again`,
    );
  }
}

/** Uploaded bytes are not a package the repository can accept (unsigned, corrupt, wrong arch…). */
export class InvalidPackageError extends Error {
  override readonly name = "InvalidPackageError";
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An uploaded package is signed, but by no key the repository trusts. */
export class UntrustedPackageError extends Error {
  override readonly name = "UntrustedPackageError";
  constructor(
    readonly repository: string,
    readonly keyNames: readonly string[],
    readonly trusted: readonly string[],
  ) {
    super(
      `package is signed by ${keyNames.map((k) => `"${k}"`).join(", ")}, which repository "${repository}" does not trust (trusted: ${trusted.map((k) => `"${k}"`).join(", ")})`,
    );
  }
}

/** The repository has the same name, version and arch with different contents. */
export class PackageVersionConflictError extends Error {
  override readonly name = "PackageVersionConflictError";
  constructor(
    readonly packageId: string,
    readonly storedChecksum: string,
    readonly uploadedChecksum: string,
  ) {
    super(
      `package ${packageId} already exists with checksum ${storedChecksum}; the upload has ${uploadedChecksum}: publish a new version (e.g. bump the -r release) instead of replacing one`,
    );
  }
}

/** A blob named by an upload is not in the blob store. */
export class UploadBlobNotFoundError extends Error {
  override readonly name = "UploadBlobNotFoundError";
  constructor(readonly blobDigest: string) {
    super(
      `blob ${blobDigest} is not in the blob store: upload the bytes first or send them as content`,
    );
  }
}
