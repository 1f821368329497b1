import { Code, mapErrors, TailorError } from "@tailor/grpc";
import {
  ArchNotAvailableError,
  SourceImageNotEntitledError,
  SourceImageUnresolvableError,
  UniverseNotReadyError,
} from "../resolution/errors.js";
import { SourceImageNotFoundError } from "../source-images/source-image-cache.js";

/** The resolver's handler edge: maps its domain errors to gRPC statuses; nothing else does. */
export function toStatus(error: unknown): unknown {
  if (error instanceof SourceImageNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "source_image_not_found",
      field: error.field,
      metadata: { source_image: error.sourceImage },
      cause: error,
    });
  }
  if (error instanceof ArchNotAvailableError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "arch_not_available",
      field: "arch",
      cause: error,
    });
  }
  if (error instanceof UniverseNotReadyError) {
    return new TailorError(Code.UNAVAILABLE, error.message, {
      reason: "universe_not_ready",
      cause: error,
    });
  }
  if (error instanceof SourceImageNotEntitledError) {
    return new TailorError(Code.PERMISSION_DENIED, error.message, {
      reason: "source_image_not_entitled",
      field: "source_image",
      metadata: { source_image: error.sourceImage },
      cause: error,
    });
  }
  if (error instanceof SourceImageUnresolvableError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "source_image_unresolvable",
      field: "source_image",
      metadata: { source_image: error.sourceImage, arch: error.arch },
      cause: error,
    });
  }
  return error;
}

/** Runs a handler body, mapping what it throws with {@link toStatus}. */
export function withStatus<T>(body: () => Promise<T>): Promise<T> {
  return mapErrors(body, toStatus);
}
