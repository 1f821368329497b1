/** No organization has the given id. */
export class OrganizationNotFoundError extends Error {
  override readonly name = "OrganizationNotFoundError";
  constructor(readonly id: string) {
    super(`organization "${id}" not found`);
  }
}

/** Another organization already uses the name. */
export class OrganizationNameTakenError extends Error {
  override readonly name = "OrganizationNameTakenError";
  constructor(
    readonly organizationName: string,
    options?: { cause?: unknown },
  ) {
    super(`organization name "${organizationName}" is already taken`, options);
  }
}

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
