/** A build id the history does not know (or the caller may not see). */
export class BuildNotFoundError extends Error {
  constructor(readonly buildId: string) {
    super(`build "${buildId}" not found`);
    this.name = "BuildNotFoundError";
  }
}

/** A request field that cannot be used, named with the constraint it breaks. */
export class InvalidHistoryRequestError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidHistoryRequestError";
  }
}
