import type { ApkPackage, IndexEntry } from "@tailor/apk";

/** One package version of one arch in one repository, as the catalog stores it. */
export interface CatalogPackage {
  readonly repository: string;
  /** The repository arch it is listed under (its `<arch>/` directory). */
  readonly arch: string;
  readonly name: string;
  readonly version: string;
  /** apk identity checksum (`C:`), "Q1" + base64 SHA-1 of the control segment. */
  readonly checksum: string;
  /** Size of the .apk in bytes as the index gives it (0 when unknown). */
  readonly size: number;
  readonly installedSize: number;
  readonly description: string;
  readonly url: string;
  readonly license: string;
  readonly origin: string;
  readonly maintainer: string;
  /** Seconds since the epoch. */
  readonly buildTime: number | undefined;
  readonly commit: string;
  readonly providerPriority: number | undefined;
  readonly depends: readonly string[];
  readonly provides: readonly string[];
  readonly installIf: readonly string[];
  /** "sha256:…" of the .apk in the blob store, once fetched or uploaded. */
  readonly blobDigest: string | undefined;
  /** How it arrived: an upstream index ("sync") or PublishPackage ("upload"). */
  readonly via: "sync" | "upload";
}

/** The fields that identify a package version within the catalog. */
export interface PackageKey {
  readonly repository: string;
  readonly arch: string;
  readonly name: string;
  readonly version: string;
}

/** `repository/arch/name-version`, for messages. */
export function describePackage(key: PackageKey): string {
  return `${key.repository}/${key.arch}/${key.name}-${key.version}`;
}

/** Repository-relative file name, e.g. `x86_64/curl-8.5.0-r0.apk`. */
export function packageFile(key: Pick<PackageKey, "arch" | "name" | "version">): string {
  return `${key.arch}/${key.name}-${key.version}.apk`;
}

/** The name part of a provide (`so:libssl.so.3=3.1.4-r0` → `so:libssl.so.3`). */
export function providedName(provide: string): string {
  const at = provide.indexOf("=");
  return at === -1 ? provide : provide.slice(0, at);
}

/**
 * True when a name or version from an index can safely become part of a
 * file name or URL path: no separators, NUL, white space or leading dot.
 * apk would not install anything else either.
 */
export function isPathSafe(part: string): boolean {
  return part !== "" && !part.startsWith(".") && !/[/\\\0\s]/.test(part);
}

/** A catalog package from an APKINDEX entry listed under `arch` of `repository`. */
export function packageFromIndexEntry(
  repository: string,
  arch: string,
  entry: IndexEntry,
  via: "sync" | "upload",
  blobDigest?: string,
): CatalogPackage {
  return {
    repository,
    arch,
    name: entry.name,
    version: entry.version,
    checksum: entry.checksum,
    size: entry.size,
    installedSize: entry.installedSize,
    description: entry.description,
    url: entry.url,
    license: entry.license,
    origin: entry.origin ?? "",
    maintainer: entry.maintainer ?? "",
    buildTime: entry.buildTime,
    commit: entry.commit ?? "",
    providerPriority: entry.providerPriority,
    depends: entry.depends,
    provides: entry.provides,
    installIf: entry.installIf,
    blobDigest,
    via,
  };
}

/**
 * Whether a package read from its bytes is the one an index checksum names.
 * Indexes use `Q1` + base64 SHA-1 of the control segment; apk also accepts
 * `Q2` + base64 SHA-256 and plain hex of either.
 */
export function checksumMatches(
  pkg: Pick<ApkPackage, "checksum" | "segments">,
  indexChecksum: string,
): boolean {
  if (indexChecksum.startsWith("Q1")) return pkg.checksum === indexChecksum;
  const sha256 = Buffer.from(pkg.segments.control.sha256, "hex");
  if (indexChecksum.startsWith("Q2")) return `Q2${sha256.toString("base64")}` === indexChecksum;
  const sha1Hex = Buffer.from(pkg.checksum.slice(2), "base64").toString("hex");
  if (/^[0-9a-f]{40}$/.test(indexChecksum)) return sha1Hex === indexChecksum;
  if (/^[0-9a-f]{64}$/.test(indexChecksum)) return sha256.toString("hex") === indexChecksum;
  return false;
}
