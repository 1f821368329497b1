/**
 * The APKINDEX entry `apk index` writes for a package file.
 */
import type { ApkErrorLocation } from "../errors.js";
import type { ApkPackage } from "../package/package-reader.js";
import { formatAtom, formatProvide, parseAtom, parseProvide } from "../version/atom.js";
import type { IndexEntry } from "./index-entry.js";

/**
 * The index entry for a package read with `readPackage`: identity from its
 * control member (`C:`), `S:` from the file size, everything else from
 * `.PKGINFO`. Dependency atoms are rewritten in apk's canonical spelling
 * (`foo=~1.2` becomes `foo~1.2`), as apk-tools re-serialises them.
 * @param fileSize size of the .apk file in bytes.
 * @throws AtomError when a dependency or provide does not parse (apk could not use the package).
 */
export function indexEntryFromPackage(pkg: ApkPackage, fileSize: number): IndexEntry {
  const info = pkg.pkginfo;
  const location: ApkErrorLocation = { entry: `${info.pkgname}-${info.pkgver}` };
  return {
    checksum: pkg.checksum,
    name: info.pkgname,
    version: info.pkgver,
    ...(info.arch !== undefined && info.arch !== "" ? { arch: info.arch } : {}),
    size: fileSize,
    installedSize: pkg.installedSize,
    description: info.pkgdesc ?? "",
    url: info.url ?? "",
    license: info.license ?? "",
    ...(info.origin !== undefined && info.origin !== "" ? { origin: info.origin } : {}),
    ...(info.maintainer !== undefined && info.maintainer !== ""
      ? { maintainer: info.maintainer }
      : {}),
    ...(info.builddate !== undefined && info.builddate !== 0 ? { buildTime: info.builddate } : {}),
    ...(info.commit !== undefined && info.commit !== "" ? { commit: info.commit } : {}),
    ...(info.providerPriority !== undefined && info.providerPriority !== 0
      ? { providerPriority: info.providerPriority }
      : {}),
    depends: canonicalAtoms(info.depend, { ...location, field: "depend" }),
    provides: info.provides.map((text) =>
      formatProvide(parseProvide(text, { ...location, field: "provides" })),
    ),
    installIf: canonicalAtoms(info.installIf, { ...location, field: "install_if" }),
  };
}

/** Atoms in apk's canonical spelling. */
export function canonicalAtoms(atoms: readonly string[], location: ApkErrorLocation): string[] {
  return atoms.map((text) => formatAtom(parseAtom(text, location)));
}
