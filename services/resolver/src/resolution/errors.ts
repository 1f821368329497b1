/** The arch has no packages in the catalog (or the universe is not loaded yet). */
export class ArchNotAvailableError extends Error {
  override readonly name = "ArchNotAvailableError";
  constructor(
    readonly arch: string,
    readonly available: readonly string[],
  ) {
    super(
      available.length === 0
        ? `arch "${arch}" has no packages: the resolver holds no package universe yet`
        : `arch "${arch}" has no packages in the catalog (arches: ${available.join(", ")})`,
    );
  }
}

/** The resolver has not finished loading its universe from the catalog. */
export class UniverseNotReadyError extends Error {
  override readonly name = "UniverseNotReadyError";
  constructor() {
    super("the resolver is still loading its package universe from the catalog; retry shortly");
  }
}

export { InvalidFieldError } from "@tailor/grpc";

/** The source image's own packages have no closure: the catalog's definition is broken for this arch. */
export class SourceImageUnresolvableError extends Error {
  override readonly name = "SourceImageUnresolvableError";
  constructor(
    readonly sourceImage: string,
    readonly arch: string,
    readonly text: string,
  ) {
    super(`source image "${sourceImage}" cannot be resolved for ${arch}:\n${text}`);
  }
}

/** The organization neither bought the source image nor may customize it. */
export class SourceImageNotEntitledError extends Error {
  override readonly name = "SourceImageNotEntitledError";
  constructor(
    readonly sourceImage: string,
    readonly orgName: string,
  ) {
    super(
      `organization ${orgName} is not entitled to source image "${sourceImage}": it neither purchased it nor may customize it`,
    );
  }
}
