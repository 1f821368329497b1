/**
 * What inspecting a package found, cached by package checksum so each
 * package is inflated once, and the layers merged from several packages,
 * cached by the checksums they hold.
 */
import type { InstalledRecord } from "@tailor/apk";

/** One path a package installs. */
export interface PackageFileInfo {
  /** Path inside the image, without a leading `/` (the root directory is `.`). */
  path: string;
  /** What it is. */
  type: "file" | "directory" | "symlink" | "hardlink";
  /** Permission bits. */
  mode: number;
  /** Numeric owner, as stored in the package. */
  uid: number;
  /** Numeric group, as stored in the package. */
  gid: number;
  /** Content length (0 for everything but regular files). */
  size: number;
  /** Symlink target, or the package path a hard link points to. */
  linkTarget?: string;
  /** Hex SHA-1 of the content (`APK-TOOLS.checksum.SHA1`); a hard link's is its target's. */
  sha1?: string;
}

/**
 * The verdict and digests of one package's data segment. A rejected package
 * carries `rejection` and empty digests; everything else is filled.
 * Plain JSON data, so a cache may keep it on disk.
 */
export interface PackageLayerInfo {
  /** Version of the inspection that made this record; other versions are ignored. */
  inspection: number;
  /** The package's `Q1…` checksum (the cache key). */
  checksum: string;
  /** `sha256:` of the data segment's compressed bytes: the layer blob's digest. */
  digest: string;
  /** `sha256:` of the inflated data tar: the layer's diff_id. */
  diffId: string;
  /** Compressed size of the data segment (the layer blob's size); 0 for a package without data. */
  size: number;
  /** Size of the inflated data tar. */
  uncompressedSize: number;
  /** Offset of the data segment in the `.apk`. */
  dataOffset: number;
  /** Hex SHA-256 of the whole `.apk` file (for the SBOM). */
  apkSha256: string;
  /** Size of the whole `.apk` file. */
  apkSize: number;
  /** `.PKGINFO` builddate, seconds since the epoch, when present. */
  buildTime?: number;
  /** Whether `.PKGINFO` has a datahash binding the data to the checksum. */
  datahash: boolean;
  /** Names of the install scripts the package carries (assembly does not run them). */
  scripts: string[];
  /** Every entry of the data tar, in order. */
  files: PackageFileInfo[];
  /**
   * Some entry has an extended attribute that is not UTF-8 (e.g.
   * `security.capability`): the package keeps a layer of its own, as a
   * rewrite could not carry the attribute through PAX text records.
   */
  binaryXattrs: boolean;
  /** Largest regular file, in bytes. */
  largestFile: number;
  /**
   * Contents of the few files the top layer builds on (`etc/passwd`,
   * `etc/group`, `etc/os-release`, the CA bundle), base64, by path.
   */
  captured: Record<string, string>;
  /** The `/lib/apk/db/installed` record, as libs/apk builds it from the package. */
  installed?: InstalledRecord;
  /** Why the package cannot go into an image; the rest is then meaningless. */
  rejection?: { entry: string; reason: string };
}

/** A layer written from the data of one or more packages (merged, or rewritten). */
export interface WrittenLayerInfo {
  /** The cache key: derived from the packages' checksums and what was left out of them. */
  key: string;
  /** `sha256:` of the compressed blob. */
  digest: string;
  /** `sha256:` of the tar. */
  diffId: string;
  /** Compressed size. */
  size: number;
  /** Tar size. */
  uncompressedSize: number;
}

/**
 * Where inspection results and written layers are kept between builds.
 * `getWritten`/`setWritten` are optional: without them merged layers are
 * rewritten on every build (still bit for bit the same).
 */
export interface LayerCache {
  /** The inspection of the package with this checksum, if known. */
  get(checksum: string): Promise<PackageLayerInfo | undefined>;
  /** Remembers an inspection. */
  set(checksum: string, info: PackageLayerInfo): Promise<void>;
  /** A layer written before under this key, if known. */
  getWritten?(key: string): Promise<WrittenLayerInfo | undefined>;
  /** Remembers a written layer. */
  setWritten?(key: string, info: WrittenLayerInfo): Promise<void>;
}

/** A {@link LayerCache} in memory, for one process (a worker, `tailorctl`, tests). */
export function createMemoryLayerCache(): LayerCache & {
  /** Number of package inspections held. */
  readonly packages: number;
  /** Number of written layers held. */
  readonly written: number;
} {
  const packages = new Map<string, PackageLayerInfo>();
  const written = new Map<string, WrittenLayerInfo>();
  return {
    get: async (checksum) => packages.get(checksum),
    set: async (checksum, info) => {
      packages.set(checksum, info);
    },
    getWritten: async (key) => written.get(key),
    setWritten: async (key, info) => {
      written.set(key, info);
    },
    get packages() {
      return packages.size;
    },
    get written() {
      return written.size;
    },
  };
}
