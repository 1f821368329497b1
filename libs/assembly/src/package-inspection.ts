/**
 * Inspects one package in a single streaming inflate pass: proves the bytes
 * are the package the resolver locked, checks every data entry is safe to
 * extract as an OCI layer, and records the data segment's digests, its file
 * list, its installed-database record and the few files the top layer
 * builds on.
 */
import { createHash } from "node:crypto";
import {
  ApkError,
  DEFAULT_READ_LIMITS,
  installedRecordFromPackage,
  LimitExceededError,
  type PackageEntry,
  readPackage,
} from "@tailor/apk";
import { PackageRejectedError } from "./errors.js";
import type { PackageFileInfo, PackageLayerInfo } from "./layer-cache.js";
import { type PackageSource, packageLabel } from "./package-source.js";

/** Version of {@link PackageLayerInfo} this code writes; cached records of other versions are redone. */
export const INSPECTION_VERSION = 1;

/** Size limits a package must keep to be used. */
export interface PackageLimits {
  /**
   * Most bytes a package's data may inflate to.
   * @default 4294967296 (4 GiB)
   */
  maxPackageBytes: number;
  /**
   * Largest single file.
   * @default 2147483648 (2 GiB)
   */
  maxFileBytes: number;
  /**
   * Most entries in a package's data.
   * @default 1000000
   */
  maxEntries: number;
}

/** The limits used when the caller gives none. */
export const DEFAULT_PACKAGE_LIMITS: Readonly<PackageLimits> = Object.freeze({
  maxPackageBytes: DEFAULT_READ_LIMITS.maxUncompressedBytes,
  maxFileBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: DEFAULT_READ_LIMITS.maxEntries,
});

/** Files whose content the top layer merges with (accounts, CA bundle) or keeps (os-release). */
export const CAPTURED_PATHS: ReadonlySet<string> = new Set([
  "etc/passwd",
  "etc/group",
  "etc/os-release",
  "usr/lib/os-release",
  "etc/ssl/certs/ca-certificates.crt",
]);
const MAX_CAPTURED_BYTES = 4 * 1024 * 1024;

/**
 * Reads `source` once and returns what assembly needs about it.
 *
 * The tar reader of libs/apk refuses, naming the entry: absolute names,
 * `..` components, `.wh.` names, device nodes and FIFOs, hard links to
 * anything but an earlier file of the same package, repeated paths, paths
 * through symlinks, symlinks escaping the root. On top of that the package
 * must be the one locked (checksum, name, version) and keep `limits`.
 *
 * @throws PackageRejectedError naming the package, the entry and the reason.
 */
export async function inspectPackage(
  source: PackageSource,
  limits: PackageLimits = DEFAULT_PACKAGE_LIMITS,
): Promise<PackageLayerInfo> {
  const label = packageLabel(source);
  const file = `${label}.apk`;
  const opened = await source.open();
  const whole = createHash("sha256");
  let apkSize = 0;
  const hashed = (async function* () {
    for await (const chunk of opened instanceof Uint8Array ? [opened] : opened) {
      whole.update(chunk);
      apkSize += chunk.length;
      yield chunk;
    }
  })();

  const captured: Record<string, string> = {};
  let largestFile = 0;
  const onEntry = async (entry: PackageEntry, body: AsyncIterable<Uint8Array>) => {
    if (entry.type === "file") {
      if (entry.size > limits.maxFileBytes) {
        throw new LimitExceededError(
          `file of ${entry.size} bytes is over the limit of ${limits.maxFileBytes} (maxFileBytes)`,
          { entry: entry.path },
        );
      }
      largestFile = Math.max(largestFile, entry.size);
      if (CAPTURED_PATHS.has(entry.path) && entry.size <= MAX_CAPTURED_BYTES) {
        const parts: Uint8Array[] = [];
        for await (const chunk of body) parts.push(chunk);
        captured[entry.path] = Buffer.concat(parts).toString("base64");
      }
    }
  };

  let pkg: Awaited<ReturnType<typeof readPackage>>;
  try {
    pkg = await readPackage(hashed, {
      file,
      limits: {
        maxUncompressedBytes: limits.maxPackageBytes,
        maxEntries: limits.maxEntries,
      },
      onEntry,
    });
  } catch (error) {
    if (error instanceof PackageRejectedError) throw error;
    if (error instanceof ApkError) {
      throw new PackageRejectedError(label, error.location.entry ?? "", error.detail, {
        cause: error,
      });
    }
    throw error;
  }

  const info = pkg.pkginfo;
  if (pkg.checksum !== source.checksum) {
    throw new PackageRejectedError(
      label,
      ".PKGINFO",
      `checksum is ${pkg.checksum}, but the resolver locked ${source.checksum}`,
    );
  }
  if (info.pkgname !== source.name || info.pkgver !== source.version) {
    throw new PackageRejectedError(
      label,
      ".PKGINFO",
      `the package is ${info.pkgname}-${info.pkgver}, not ${label}`,
    );
  }
  let installed: PackageLayerInfo["installed"];
  try {
    installed = installedRecordFromPackage(pkg);
  } catch (error) {
    if (!(error instanceof ApkError)) throw error;
    throw new PackageRejectedError(label, ".PKGINFO", error.detail, { cause: error });
  }

  const data = pkg.segments.data;
  if (apkSize !== data.offset + data.length) {
    throw new PackageRejectedError(
      label,
      "",
      `${apkSize - data.offset - data.length} bytes follow the data segment`,
    );
  }
  const result: PackageLayerInfo = {
    inspection: INSPECTION_VERSION,
    checksum: pkg.checksum,
    digest: `sha256:${data.sha256}`,
    diffId: `sha256:${data.uncompressedSha256}`,
    size: data.length,
    uncompressedSize: data.uncompressedLength,
    dataOffset: data.offset,
    apkSha256: whole.digest("hex"),
    apkSize,
    datahash: info.datahash !== undefined,
    scripts: pkg.scripts.map((script) => script.name),
    files: fileInfos(pkg.entries),
    binaryXattrs: pkg.entries.some((entry) => hasBinaryXattr(entry.xattrs)),
    largestFile,
    captured,
    installed,
  };
  if (info.builddate !== undefined) result.buildTime = info.builddate;
  return result;
}

/**
 * Checks a (possibly cached) inspection against the limits of this build.
 * @throws PackageRejectedError when a limit is exceeded or the package was rejected before.
 */
export function checkInspection(
  source: PackageSource,
  info: PackageLayerInfo,
  limits: PackageLimits,
): void {
  const label = packageLabel(source);
  if (info.rejection !== undefined) {
    throw new PackageRejectedError(label, info.rejection.entry, info.rejection.reason);
  }
  if (info.uncompressedSize > limits.maxPackageBytes) {
    throw new PackageRejectedError(
      label,
      "",
      `data inflates to ${info.uncompressedSize} bytes, over the limit of ${limits.maxPackageBytes} (maxPackageBytes)`,
    );
  }
  if (info.files.length > limits.maxEntries) {
    throw new PackageRejectedError(
      label,
      "",
      `${info.files.length} entries, over the limit of ${limits.maxEntries} (maxEntries)`,
    );
  }
  if (info.largestFile > limits.maxFileBytes) {
    const big = info.files.find((file) => file.type === "file" && file.size === info.largestFile);
    throw new PackageRejectedError(
      label,
      big?.path ?? "",
      `file of ${info.largestFile} bytes is over the limit of ${limits.maxFileBytes} (maxFileBytes)`,
    );
  }
}

function fileInfos(entries: readonly PackageEntry[]): PackageFileInfo[] {
  const sha1ByPath = new Map<string, string>();
  return entries.map((entry) => {
    const file: PackageFileInfo = {
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.size,
    };
    if (entry.linkTarget !== undefined) file.linkTarget = entry.linkTarget;
    const sha1 =
      entry.type === "hardlink" && entry.linkTarget !== undefined
        ? sha1ByPath.get(entry.linkTarget)
        : entry.checksum !== undefined && /^[0-9a-f]{40}$/i.test(entry.checksum)
          ? entry.checksum.toLowerCase()
          : undefined;
    if (sha1 !== undefined) {
      file.sha1 = sha1;
      sha1ByPath.set(entry.path, sha1);
    }
    return file;
  });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function hasBinaryXattr(xattrs: Readonly<Record<string, string>> | undefined): boolean {
  if (xattrs === undefined) return false;
  return Object.values(xattrs).some((value) => {
    try {
      strictUtf8.decode(Buffer.from(value, "latin1"));
      return value.includes("\0");
    } catch {
      return true;
    }
  });
}
