/** Errors of build requests and builds; handlers map them to gRPC statuses (handlers/to-status.ts). */

export { InvalidFieldError } from "@tailor/grpc";

/** No build with this id (or not one the caller may see). */
export class BuildNotFoundError extends Error {
  override readonly name = "BuildNotFoundError";
  constructor(readonly buildId: string) {
    super(`build ${buildId} not found`);
  }
}

/** A build already finished, so it cannot be cancelled. */
export class BuildFinishedError extends Error {
  override readonly name = "BuildFinishedError";
  constructor(
    readonly buildId: string,
    readonly status: string,
  ) {
    super(`build ${buildId} cannot be cancelled: it already ended (${status})`);
  }
}

/** No repository with this name (or not one the caller may see). */
export class RepositoryNotFoundError extends Error {
  override readonly name = "RepositoryNotFoundError";
  constructor(readonly repository: string) {
    super(`repository ${repository} not found`);
  }
}

/** No manifest under this tag or digest in the repository. */
export class ManifestNotFoundError extends Error {
  override readonly name = "ManifestNotFoundError";
  constructor(
    readonly repository: string,
    readonly reference: string,
  ) {
    super(`manifest ${reference} not found in repository ${repository}`);
  }
}

/**
 * Why a build failed, with a stable reason code (`resolve_failed`,
 * `file_conflict`, `package_rejected`, `timeout`, …) and a message for people.
 * Anything else a worker meets is treated as a transient error and retried.
 */
export class BuildFailure extends Error {
  override readonly name = "BuildFailure";
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
