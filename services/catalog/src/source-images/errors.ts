/** No source image has the given name. */
export class SourceImageNotFoundError extends Error {
  override readonly name = "SourceImageNotFoundError";
  constructor(
    readonly imageName: string,
    /** The request field that named it (`name`, `source_image`). */
    readonly field: string,
  ) {
    super(`source image "${imageName}" not found`);
  }
}
