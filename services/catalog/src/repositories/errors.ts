export { InvalidFieldError } from "@tailor/grpc";

/** No repository has the given name. */
export class RepositoryNotFoundError extends Error {
  override readonly name = "RepositoryNotFoundError";
  constructor(
    readonly repositoryName: string,
    /** The request field that named it. */
    readonly field = "name",
  ) {
    super(`repository "${repositoryName}" not found`);
  }
}

/** A repository with the name exists already. */
export class RepositoryExistsError extends Error {
  override readonly name = "RepositoryExistsError";
  constructor(
    readonly repositoryName: string,
    options?: { cause?: unknown },
  ) {
    super(`repository "${repositoryName}" already exists`, options);
  }
}

/** The operation needs the other kind of repository (sync an upstream one, publish into a hosted one). */
export class RepositoryKindError extends Error {
  override readonly name = "RepositoryKindError";
  constructor(
    readonly repositoryName: string,
    readonly kind: "upstream" | "hosted",
    message: string,
  ) {
    super(message);
  }
}

/** A file could not be read from an upstream repository because it is not there. */
export class UpstreamFileMissingError extends Error {
  override readonly name = "UpstreamFileMissingError";
  constructor(
    readonly location: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${detail}`, options);
  }
}

/** An upstream repository did not answer, answered with a server error, or too slowly. */
export class UpstreamUnavailableError extends Error {
  override readonly name = "UpstreamUnavailableError";
  constructor(
    readonly location: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${location}: ${detail}`, options);
  }
}

/** An upstream file is larger than the catalog accepts. */
export class UpstreamFileTooLargeError extends Error {
  override readonly name = "UpstreamFileTooLargeError";
  constructor(
    readonly location: string,
    readonly maxBytes: number,
  ) {
    super(`${location}: larger than the limit of ${maxBytes} bytes`);
  }
}
