import { readPackage } from "@tailor/apk";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import { findPackage } from "../store/package-store.js";
import { PackageNotFoundError } from "./errors.js";
import type { PackageKey } from "./package.js";
import { describePackage } from "./package.js";

/** What a package installs, when its bytes are in the blob store. */
export interface PackageFiles {
  /** False when the bytes were never fetched: the list is unknown, not empty. */
  readonly known: boolean;
  /** Regular files and symlinks, without a leading "/", in the package's order. */
  readonly files: readonly string[];
}

/** How many file lists a catalog process keeps (they never change for a blob digest). */
const CACHED_LISTS = 2_000;

/** Reads package file lists from the blob store, remembering recent ones by blob digest. */
export interface PackageFileReader {
  /** The file list of `key`; PackageNotFoundError when the catalog has no such package. */
  files(key: PackageKey): Promise<PackageFiles>;
}

/** Creates the reader behind GetPackageFiles; it never downloads anything. */
export function createPackageFileReader(
  deps: Pick<CatalogDependencies, "db" | "blobs">,
): PackageFileReader {
  const cache = new Map<string, readonly string[]>();
  return {
    async files(key) {
      const pkg = await findPackage(deps.db, key);
      if (pkg === undefined) throw new PackageNotFoundError(describePackage(key));
      const digest = pkg.blobDigest;
      if (digest === undefined || !(await deps.blobs.has(digest))) {
        return { known: false, files: [] };
      }
      let files = cache.get(digest);
      if (files === undefined) {
        const read = await readPackage(await deps.blobs.get(digest), {
          file: describePackage(key),
        });
        files = read.entries
          .filter((entry) => entry.type !== "directory")
          .map((entry) => entry.path);
        if (cache.size >= CACHED_LISTS) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
        cache.set(digest, files);
      }
      return { known: true, files };
    },
  };
}
