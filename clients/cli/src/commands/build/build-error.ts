/** A build could not be done for a reason the user can act on; tailorctl prints the message and exits 1. */
export class BuildError extends Error {
  override readonly name: string = "BuildError";
}
