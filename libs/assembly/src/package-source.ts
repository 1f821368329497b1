/** What assembly needs to know about one package of the closure. */

/**
 * One package of a resolved closure, as the resolver locked it, with a way
 * to read its `.apk` bytes (from a blob store, a cache directory, a test).
 */
export interface PackageSource {
  /** Package name (`P:`). */
  name: string;
  /** Full version (`V:`), e.g. `5.17-r0`. */
  version: string;
  /** Architecture (`A:`): the image's arch or `noarch`. */
  arch: string;
  /** The APKINDEX `C:` value (`Q1…`); the package bytes must have this identity. */
  checksum: string;
  /** Repository URL or name the package came from (for the SBOM and the log). */
  repository: string;
  /** Source package (`o:`); files shared with a package of the same origin are not conflicts. */
  origin?: string;
  /** Licence expression (`L:`). */
  license?: string;
  /** One-line description (`T:`). */
  description?: string;
  /** Upstream home page (`U:`). */
  url?: string;
  /** Installed size in bytes (`I:`). */
  installedSize: number;
  /** Names of packages whose files this one may overwrite (`.PKGINFO` `replaces`; atoms allowed). */
  replaces?: string[];
  /** Build time (`t:`); the default `SOURCE_DATE_EPOCH` is the newest one. @default the `.PKGINFO` builddate */
  buildTime?: Date;
  /**
   * Part of the source image: such packages never share a merged layer
   * with added packages, so every customization of the same source image
   * version shares its base layers.
   */
  pinned: boolean;
  /** The whole `.apk`; called once to inspect an uncached package and once more to upload its layer. */
  open(): Promise<Uint8Array | AsyncIterable<Uint8Array>>;
}

/** `name-version`, how packages are named in errors and the log. */
export function packageLabel(source: Pick<PackageSource, "name" | "version">): string {
  return `${source.name}-${source.version}`;
}
