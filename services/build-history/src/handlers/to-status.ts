import { Code, TailorError } from "@tailor/grpc";
import { BuildNotFoundError, InvalidHistoryRequestError } from "../builds/errors.js";

/** The history's handler edge: maps its domain errors to gRPC statuses; nothing else does. */
export function toStatus(error: unknown): unknown {
  if (error instanceof InvalidHistoryRequestError) {
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_field",
      field: error.field,
      cause: error,
    });
  }
  if (error instanceof BuildNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "build_not_found",
      field: "id",
      cause: error,
    });
  }
  return error;
}
