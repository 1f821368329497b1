/** An organization has no custom image of that name (or the revision asked for does not exist). */
export class CustomImageNotFoundError extends Error {
  override readonly name = "CustomImageNotFoundError";
  constructor(
    readonly orgId: string,
    readonly imageName: string,
    readonly revision?: number,
  ) {
    super(
      revision === undefined
        ? `custom image "${imageName}" not found in organization "${orgId}"`
        : `custom image "${imageName}" of organization "${orgId}" has no revision ${revision}`,
    );
  }
}

/** The organization already has a custom image of that name. */
export class CustomImageExistsError extends Error {
  override readonly name = "CustomImageExistsError";
  constructor(
    readonly orgId: string,
    readonly imageName: string,
    options?: { cause?: unknown },
  ) {
    super(`custom image "${imageName}" already exists in organization "${orgId}"`, options);
  }
}

/** An update named an expected revision that is no longer the latest. */
export class RevisionConflictError extends Error {
  override readonly name = "RevisionConflictError";
  constructor(
    readonly imageName: string,
    readonly expected: number,
    readonly latest: number,
  ) {
    super(
      `custom image "${imageName}" is at revision ${latest}, not the expected ${expected}: reload it and apply your change again`,
    );
  }
}

/** The organization may not customize (at all, or this source image). */
export class CustomizationNotAllowedError extends Error {
  override readonly name = "CustomizationNotAllowedError";
  constructor(
    readonly orgId: string,
    readonly sourceImage: string,
    /** `custom_assembly_disabled` or `source_image_not_customizable`. */
    readonly reason: "custom_assembly_disabled" | "source_image_not_customizable",
    message: string,
  ) {
    super(message);
  }
}

/** The organization the request names does not exist (as the entitlement service says). */
export class OrganizationNotFoundError extends Error {
  override readonly name = "OrganizationNotFoundError";
  constructor(readonly orgId: string) {
    super(`organization "${orgId}" not found`);
  }
}
