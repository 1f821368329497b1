import { quoted, shortened } from "../requests/request-fields.js";

/** No organization (visible to the caller) has the given id or name. */
export class OrganizationNotFoundError extends Error {
  override readonly name = "OrganizationNotFoundError";
  /** What the caller sent (its first 64 characters), the only thing the error repeats. */
  readonly value: string;
  /**
   * @param field the request field that named it ("id", "name", "org_id")
   * @param value what the caller sent
   */
  constructor(
    readonly field: string,
    value: string,
  ) {
    super(`organization ${quoted(value)} not found`);
    this.value = shortened(value);
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
  constructor(token: string) {
    super(`page token ${quoted(token)} is not valid: pass the next_token of the previous page`);
  }
}
