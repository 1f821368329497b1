/** No organization (visible to the caller) has the given id or name. */
export class OrganizationNotFoundError extends Error {
  override readonly name = "OrganizationNotFoundError";
  /**
   * @param field the request field that named it ("id", "name", "org_id")
   * @param value what the caller sent, the only thing the message repeats
   */
  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`organization "${value}" not found`);
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

/** The page token of a listing was not produced by this service. */
export class InvalidPageTokenError extends Error {
  override readonly name = "InvalidPageTokenError";
  constructor(readonly token: string) {
    super(`page token "${token}" is not valid: pass the next_token of the previous page`);
  }
}
