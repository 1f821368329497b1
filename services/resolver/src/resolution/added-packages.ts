import { parseAtom } from "@tailor/apk";
import { InvalidFieldError } from "./errors.js";

/** Most atoms one request may add (a customization adds tens, not thousands). */
export const MAX_ADDED_PACKAGES = 500;
/** Longest atom accepted, in characters. */
export const MAX_ATOM_LENGTH = 256;

/**
 * Checks the added packages of a request: each must be an apk atom
 * (`name(@tag)([<>~=]version)`, or `!name` to forbid one), at most
 * {@link MAX_ADDED_PACKAGES} of them. Returns them trimmed.
 * @param field the request field, e.g. `packages` or `overlay.packages`.
 * @throws InvalidFieldError naming `field[i]` (or `field` for too many).
 */
export function parseAddedPackages(atoms: readonly string[], field: string): string[] {
  if (atoms.length > MAX_ADDED_PACKAGES) {
    throw new InvalidFieldError(
      field,
      `${field} lists ${atoms.length} packages; at most ${MAX_ADDED_PACKAGES} can be added`,
    );
  }
  return atoms.map((raw, index) => {
    const name = `${field}[${index}]`;
    const atom = raw.trim();
    if (atom === "") throw new InvalidFieldError(name, `${name} is empty`);
    if (atom.length > MAX_ATOM_LENGTH) {
      throw new InvalidFieldError(
        name,
        `${name} is ${atom.length} characters long; an apk atom has at most ${MAX_ATOM_LENGTH}`,
      );
    }
    try {
      parseAtom(atom);
    } catch (error) {
      const reason = error instanceof Error ? `: ${error.message}` : "";
      throw new InvalidFieldError(
        name,
        `${name} ${JSON.stringify(atom)} is not a valid apk atom${reason} (format: name(@tag)([<>~=]version))`,
      );
    }
    return atom;
  });
}
