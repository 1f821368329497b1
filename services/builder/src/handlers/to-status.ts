import { Code, mapErrors, TailorError } from "@tailor/grpc";
import {
  BuildFinishedError,
  BuildNotFoundError,
  ManifestNotFoundError,
  RepositoryNotFoundError,
} from "../builds/errors.js";

/** The builder's handler edge: maps its domain errors to gRPC statuses; nothing else does. */
export function toStatus(error: unknown): unknown {
  if (error instanceof BuildNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "build_not_found",
      field: "build_id",
      cause: error,
    });
  }
  if (error instanceof BuildFinishedError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "build_finished",
      field: "build_id",
      metadata: { status: error.status },
      cause: error,
    });
  }
  if (error instanceof RepositoryNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "repository_not_found",
      field: "repository",
      cause: error,
    });
  }
  if (error instanceof ManifestNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "manifest_not_found",
      field: "reference",
      cause: error,
    });
  }
  return error;
}

/** Runs a handler body, mapping domain errors to gRPC statuses. */
export function withStatus<T>(work: () => Promise<T>): Promise<T> {
  return mapErrors(work, toStatus);
}
