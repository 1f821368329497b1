import { compareVersions, isValidVersion, parseAtom } from "@tailor/apk";
import { InvalidFieldsError } from "./field-problem.js";

/**
 * The package whose version a source image carries: `requested` when given
 * (it must be one of the image's packages), else the first package that is
 * not a conflict atom.
 *
 * @throws InvalidFieldsError at `main_package` when `requested` is not among `packages`.
 */
export function chooseMainPackage(
  imageName: string,
  packages: readonly string[],
  requested: string,
): string {
  // A conflict atom (`!name`) keeps a package out; it cannot be the main package.
  const names = packages
    .map((atom) => parseAtom(atom))
    .filter((atom) => !atom.conflict)
    .map((atom) => atom.name);
  const wanted = requested.trim();
  if (wanted === "") {
    const first = names[0];
    if (first === undefined) {
      throw new InvalidFieldsError(`source image "${imageName}"`, [
        { field: "contents.packages", message: "must list at least one package" },
      ]);
    }
    return first;
  }
  if (!names.includes(wanted)) {
    throw new InvalidFieldsError(`source image "${imageName}"`, [
      {
        field: "main_package",
        message: `"${wanted}" is not one of contents.packages (${names.join(", ")})`,
      },
    ]);
  }
  return wanted;
}

/**
 * The highest of `versions` in apk order that `isEndOfLife` does not cover,
 * or "" when there is none: a source image's version follows its main package.
 */
export function newestSupportedVersion(
  versions: readonly string[],
  isEndOfLife: (version: string) => boolean,
): string {
  let newest = "";
  for (const version of versions) {
    if (!isValidVersion(version) || isEndOfLife(version)) continue;
    if (newest === "" || compareVersions(version, newest) > 0) newest = version;
  }
  return newest;
}
