import { parseAtom, versionSatisfies } from "@tailor/apk";

/** An end-of-life rule as the check reads it. */
export interface EndOfLifeStream {
  /** Versions below this one are end-of-life; undefined means every version. */
  readonly beforeVersion: string | undefined;
  readonly reason: string;
}

/**
 * The added packages that name an end-of-life stream with no supported
 * version left, with the rule's reason: a rule without `beforeVersion`
 * covers every version; one with it leaves supported only the catalog's
 * versions at or above it that the atom's constraint allows.
 *
 * @param atoms the overlay's atoms (invalid ones are skipped; validation reports them)
 * @param ruleFor the rule of a package name, if any
 * @param versionsOf every version of a package name the catalog has
 */
export function findEndOfLifeOnly(
  atoms: readonly string[],
  ruleFor: (name: string) => EndOfLifeStream | undefined,
  versionsOf: (name: string) => readonly string[],
): Map<string, string> {
  const result = new Map<string, string>();
  for (const text of atoms) {
    let atom: ReturnType<typeof parseAtom>;
    try {
      atom = parseAtom(text.trim());
    } catch {
      continue;
    }
    if (atom.conflict) continue;
    const rule = ruleFor(atom.name);
    if (rule === undefined) continue;
    const before = rule.beforeVersion;
    const supported =
      before !== undefined &&
      versionsOf(atom.name).some(
        (version) =>
          !versionSatisfies(version, "<", before) &&
          (atom.op === undefined ||
            atom.version === undefined ||
            versionSatisfies(version, atom.op, atom.version)),
      );
    if (!supported) result.set(atom.name, rule.reason);
  }
  return result;
}
