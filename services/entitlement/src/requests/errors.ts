/** A request field does not have the required shape. */
export class InvalidFieldError extends Error {
  override readonly name = "InvalidFieldError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
