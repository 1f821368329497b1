/** No identity (visible to the caller) has the given id. */
export class IdentityNotFoundError extends Error {
  override readonly name = "IdentityNotFoundError";
  constructor(readonly id: string) {
    super(`identity "${id}" not found`);
  }
}

/** A live identity of the organization already has the name. */
export class IdentityNameTakenError extends Error {
  override readonly name = "IdentityNameTakenError";
  constructor(
    readonly identityName: string,
    options?: { cause?: unknown },
  ) {
    super(`identity name "${identityName}" is already taken in this organization`, options);
  }
}

/** Platform administrators have no role in an organization to change. */
export class AdministratorHasNoRoleError extends Error {
  override readonly name = "AdministratorHasNoRoleError";
  constructor(readonly id: string) {
    super(`identity "${id}" is a platform administrator: it has no organization role to change`);
  }
}

/** No API key (visible to the caller) has the given id. */
export class ApiKeyNotFoundError extends Error {
  override readonly name = "ApiKeyNotFoundError";
  constructor(readonly id: string) {
    super(`API key "${id}" not found`);
  }
}

/**
 * TAILOR_BOOTSTRAP_ADMIN_KEY names a key id that another identity's key (or
 * a key with another secret) already uses; the operator must pick a new key.
 */
export class BootstrapKeyConflictError extends Error {
  override readonly name = "BootstrapKeyConflictError";
  constructor(
    readonly keyId: string,
    readonly variable = "TAILOR_BOOTSTRAP_ADMIN_KEY",
  ) {
    super(
      `${variable} has key id "${keyId}", which is already used by a different API key; generate a new key`,
    );
  }
}
