/**
 * Errors of @tailor/assembly. Each names the package, the path or entry and
 * the constraint that failed, so the build log tells a user what to fix.
 */

/** Base class of every error this library throws on bad input. */
export class AssemblyError extends Error {
  override readonly name: string = "AssemblyError";
}

/**
 * A package whose data cannot go into an image: an unsafe entry (`..`,
 * absolute, `.wh.` whiteout, device node, FIFO, bad hard link), a size over a
 * limit, or bytes that are not the package the resolver locked.
 */
export class PackageRejectedError extends AssemblyError {
  override readonly name = "PackageRejectedError";
  /** `name-version` of the package. */
  readonly package: string;
  /** The offending entry of the package (a data path, or `.PKGINFO`); "" when none. */
  readonly entry: string;
  /** What is wrong, without package and entry. */
  readonly reason: string;

  constructor(pkg: string, entry: string, reason: string, options?: { cause?: unknown }) {
    super(`package ${pkg} rejected: ${entry === "" ? "" : `entry "${entry}": `}${reason}`, options);
    this.package = pkg;
    this.entry = entry;
    this.reason = reason;
  }
}

/** A path two packages both install, which apk would refuse as well. */
export class FileConflictError extends AssemblyError {
  override readonly name = "FileConflictError";
  /** The path inside the image, without a leading `/`. */
  readonly path: string;
  /** `name-version` of the earlier and the later package, in layer order. */
  readonly owners: readonly [string, string];
  /** Why apk's exceptions (same checksum, `replaces`, same origin) do not apply. */
  readonly reason: string;

  constructor(path: string, owners: readonly [string, string], reason: string) {
    super(`/${path} is installed by both ${owners[0]} and ${owners[1]}: ${reason}`);
    this.path = path;
    this.owners = owners;
    this.reason = reason;
  }
}

/** The packages cannot be laid out in at most the layer budget. */
export class LayerBudgetError extends AssemblyError {
  override readonly name = "LayerBudgetError";
  /** The budget asked for. */
  readonly budget: number;
  /** Layers the plan still needed. */
  readonly needed: number;

  constructor(budget: number, needed: number, detail: string) {
    super(`layer budget ${budget} cannot be met (${needed} layers needed): ${detail}`);
    this.budget = budget;
    this.needed = needed;
  }
}

/** Assembly input that is malformed: an account, a key name, an env entry, a budget. */
export class InvalidAssemblyInputError extends AssemblyError {
  override readonly name = "InvalidAssemblyInputError";
  /** The input field concerned, e.g. `config.accounts.users[1].uid`. */
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
  }
}
