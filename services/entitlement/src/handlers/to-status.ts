import { TokenError } from "@tailor/auth";
import { Code, mapErrors, TailorError } from "@tailor/grpc";
import {
  AdministratorHasNoRoleError,
  ApiKeyNotFoundError,
  IdentityNameTakenError,
  IdentityNotFoundError,
} from "../identities/errors.js";
import {
  InvalidPageTokenError,
  OrganizationNameTakenError,
  OrganizationNotFoundError,
} from "../organizations/errors.js";
import { InvalidApiKeyError, TokenIdentityGoneError } from "../tokens/errors.js";

/** The handler edge: maps domain errors to gRPC status codes, nothing else does. */
export function toStatus(error: unknown): unknown {
  if (error instanceof OrganizationNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "organization_not_found",
      field: error.field,
      metadata: { [error.field]: error.value },
      cause: error,
    });
  }
  if (error instanceof OrganizationNameTakenError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "organization_name_taken",
      field: "name",
      metadata: { name: error.organizationName },
      cause: error,
    });
  }
  if (error instanceof InvalidPageTokenError) {
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_page_token",
      field: "page.token",
      cause: error,
    });
  }
  if (error instanceof IdentityNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "identity_not_found",
      field: "identity_id",
      metadata: { identity_id: error.id },
      cause: error,
    });
  }
  if (error instanceof IdentityNameTakenError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "identity_name_taken",
      field: "name",
      metadata: { name: error.identityName },
      cause: error,
    });
  }
  if (error instanceof AdministratorHasNoRoleError) {
    return new TailorError(Code.FAILED_PRECONDITION, error.message, {
      reason: "administrator_has_no_role",
      field: "identity_id",
      cause: error,
    });
  }
  if (error instanceof ApiKeyNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "api_key_not_found",
      field: "api_key_id",
      metadata: { api_key_id: error.id },
      cause: error,
    });
  }
  if (error instanceof InvalidApiKeyError) {
    return new TailorError(Code.UNAUTHENTICATED, error.message, {
      reason: `api_key_${error.refusal}`,
      field: "api_key",
      cause: error,
    });
  }
  if (error instanceof TokenIdentityGoneError) {
    return new TailorError(Code.UNAUTHENTICATED, error.message, {
      reason: "identity_deleted",
      cause: error,
    });
  }
  if (error instanceof TokenError) {
    return new TailorError(Code.UNAUTHENTICATED, `invalid token: ${error.message}`, {
      reason: `token_${error.reason}`,
      cause: error,
    });
  }
  return error;
}

/** Runs a handler body and maps what it throws with {@link toStatus}. */
export function withStatus<T>(work: () => Promise<T>): Promise<T> {
  return mapErrors(work, toStatus);
}
