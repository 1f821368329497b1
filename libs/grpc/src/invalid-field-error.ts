/**
 * A request field a handler refuses, e.g. `packages[2]`: the one domain error
 * every service shares. {@link mapErrors} turns it into INVALID_ARGUMENT with
 * reason `invalid_field` and the field, unless the service maps it itself.
 */
export class InvalidFieldError extends Error {
  override readonly name = "InvalidFieldError";
  constructor(
    /** The request field, e.g. `trusted_keys[1].pem`. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
