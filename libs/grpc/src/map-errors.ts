import { Code } from "./code.js";
import { InvalidFieldError } from "./invalid-field-error.js";
import { TailorError } from "./tailor-error.js";

/**
 * Runs a handler body and rethrows what it throws through `toStatus`: the one
 * try/catch of a service's handler edge, where domain errors become gRPC
 * statuses. An {@link InvalidFieldError} that `toStatus` leaves alone becomes
 * INVALID_ARGUMENT naming its field.
 */
export async function mapErrors<T>(
  work: () => Promise<T>,
  toStatus: (error: unknown) => unknown,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const mapped = toStatus(error);
    if (mapped instanceof InvalidFieldError) {
      throw new TailorError(Code.INVALID_ARGUMENT, mapped.message, {
        reason: "invalid_field",
        field: mapped.field,
        cause: mapped,
      });
    }
    throw mapped;
  }
}
