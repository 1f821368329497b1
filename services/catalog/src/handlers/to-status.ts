import { Code, mapErrors, TailorError } from "@tailor/grpc";
import {
  CustomImageExistsError,
  CustomImageNotFoundError,
  CustomizationNotAllowedError,
  OrganizationNotFoundError,
  RevisionConflictError,
} from "../custom-images/errors.js";
import {
  InvalidPackageError,
  PackageBytesMissingError,
  PackageNotFoundError,
  PackageVerificationError,
  PackageVersionConflictError,
  UntrustedPackageError,
  UploadBlobNotFoundError,
} from "../packages/errors.js";
import { InvalidPageTokenError } from "../packages/package-listing.js";
import {
  RepositoryExistsError,
  RepositoryKindError,
  RepositoryNotFoundError,
  UpstreamFileMissingError,
  UpstreamFileTooLargeError,
  UpstreamUnavailableError,
} from "../repositories/errors.js";
import { SourceImageNotFoundError } from "../source-images/errors.js";
import { InvalidFieldsError } from "../source-images/field-problem.js";
import { IndexRejectedError, SyncLeaseLostError } from "../sync/errors.js";

/**
 * The catalog's handler edge: maps the domain errors of both halves
 * (repositories and packages, source and custom images) to gRPC statuses;
 * nothing else does.
 */
export function toStatus(error: unknown): unknown {
  if (error instanceof InvalidPageTokenError) {
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_page_token",
      field: "page.token",
      cause: error,
    });
  }
  if (error instanceof RepositoryNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "repository_not_found",
      field: error.field,
      metadata: { repository: error.repositoryName },
      cause: error,
    });
  }
  if (error instanceof RepositoryExistsError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "repository_exists",
      field: "name",
      metadata: { repository: error.repositoryName },
      cause: error,
    });
  }
  if (error instanceof RepositoryKindError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: `repository_is_${error.kind}`,
      metadata: { repository: error.repositoryName, kind: error.kind },
      cause: error,
    });
  }
  if (error instanceof IndexRejectedError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: `index_${error.rejection}`,
      metadata: { repository: error.repository, arch: error.arch, keys: error.keyNames.join(",") },
      cause: error,
    });
  }
  if (error instanceof SyncLeaseLostError) {
    return new TailorError(Code.ABORTED, error.message, {
      reason: "sync_lease_lost",
      cause: error,
    });
  }
  if (error instanceof UpstreamFileMissingError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "upstream_file_missing",
      metadata: { location: error.location },
      cause: error,
    });
  }
  if (error instanceof UpstreamFileTooLargeError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "upstream_file_too_large",
      metadata: { location: error.location, max_bytes: String(error.maxBytes) },
      cause: error,
    });
  }
  if (error instanceof UpstreamUnavailableError) {
    return new TailorError(Code.UNAVAILABLE, error.message, {
      reason: "upstream_unavailable",
      metadata: { location: error.location },
      cause: error,
    });
  }
  if (error instanceof PackageNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "package_not_found",
      metadata: { package: error.packageId },
      cause: error,
    });
  }
  if (error instanceof PackageVerificationError) {
    return new TailorError(Code.DATA_LOSS, error.message, {
      reason:
        error.reason === "checksum_mismatch" ? "package_checksum_mismatch" : "package_corrupt",
      metadata: { package: error.packageId },
      cause: error,
    });
  }
  if (error instanceof PackageBytesMissingError) {
    return new TailorError(Code.DATA_LOSS, error.message, {
      reason: "package_bytes_missing",
      metadata: { package: error.packageId },
      cause: error,
    });
  }
  if (error instanceof InvalidPackageError) {
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_package",
      field: error.field,
      cause: error,
    });
  }
  if (error instanceof UntrustedPackageError) {
    return new TailorError(Code.PERMISSION_DENIED, error.message, {
      reason: "package_signature_untrusted",
      field: "content",
      metadata: { repository: error.repository, keys: error.keyNames.join(",") },
      cause: error,
    });
  }
  if (error instanceof PackageVersionConflictError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "package_version_exists",
      metadata: { package: error.packageId, checksum: error.storedChecksum },
      cause: error,
    });
  }
  if (error instanceof UploadBlobNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "blob_not_found",
      field: "blob_digest",
      cause: error,
    });
  }
  if (error instanceof InvalidFieldsError) {
    const metadata: Record<string, string> = { problems: String(error.problems.length) };
    for (const problem of error.problems) {
      const earlier = metadata[problem.field];
      metadata[problem.field] =
        earlier === undefined ? problem.message : `${earlier}; ${problem.message}`;
    }
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_field",
      field: error.field,
      metadata,
      cause: error,
    });
  }
  if (error instanceof SourceImageNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "source_image_not_found",
      field: error.field,
      metadata: { source_image: error.imageName },
      cause: error,
    });
  }
  if (error instanceof CustomImageNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "custom_image_not_found",
      field: error.revision === undefined ? "name" : "revision",
      metadata: { org_id: error.orgId, name: error.imageName },
      cause: error,
    });
  }
  if (error instanceof CustomImageExistsError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "custom_image_exists",
      field: "name",
      metadata: { org_id: error.orgId, name: error.imageName },
      cause: error,
    });
  }
  if (error instanceof RevisionConflictError) {
    return new TailorError(Code.ABORTED, error.message, {
      reason: "revision_conflict",
      field: "expected_revision",
      metadata: {
        expected_revision: String(error.expected),
        latest_revision: String(error.latest),
      },
      cause: error,
    });
  }
  if (error instanceof CustomizationNotAllowedError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: error.reason,
      field: error.reason === "custom_assembly_disabled" ? "org_id" : "source_image",
      metadata: { org_id: error.orgId, source_image: error.sourceImage },
      cause: error,
    });
  }
  if (error instanceof OrganizationNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "organization_not_found",
      field: "org_id",
      metadata: { org_id: error.orgId },
      cause: error,
    });
  }
  return error;
}

/** Runs a handler body and maps what it throws with {@link toStatus}. */
export function withStatus<T>(work: () => Promise<T>): Promise<T> {
  return mapErrors(work, toStatus);
}
