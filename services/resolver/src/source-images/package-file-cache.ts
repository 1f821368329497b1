import type { catalogV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";

/** Which package a file list is about. */
export interface PackageFileKey {
  readonly repository: string;
  readonly arch: string;
  readonly name: string;
  readonly version: string;
}

/** File lists from the catalog's GetPackageFiles; known lists are kept (they never change). */
export interface PackageFileCache {
  /** The files of each package, undefined where the catalog does not know them. */
  filesOf(
    packages: readonly PackageFileKey[],
    call: { readonly metadata: Record<string, string>; readonly signal?: AbortSignal },
  ): Promise<(readonly string[] | undefined)[]>;
}

/** Parallel GetPackageFiles calls per Preview, at most. */
const CONCURRENCY = 16;
const MAX_CACHED = 20_000;

/** Creates the cache over the catalog client. */
export function createPackageFileCache(
  catalog: ServiceClient<typeof catalogV1.CatalogService>,
): PackageFileCache {
  const known = new Map<string, readonly string[]>();
  return {
    async filesOf(packages, call) {
      const results: (readonly string[] | undefined)[] = new Array(packages.length);
      let next = 0;
      const worker = async () => {
        for (;;) {
          if (call.signal?.aborted === true) return;
          const index = next++;
          const key = packages[index];
          if (key === undefined) return;
          const id = `${key.repository}/${key.arch}/${key.name}-${key.version}`;
          const cached = known.get(id);
          if (cached !== undefined) {
            results[index] = cached;
            continue;
          }
          try {
            const response = await catalog.getPackageFiles(
              { repository: key.repository, arch: key.arch, name: key.name, version: key.version },
              {
                metadata: call.metadata,
                ...(call.signal === undefined ? {} : { signal: call.signal }),
              },
            );
            if (response.known) {
              if (known.size >= MAX_CACHED) known.clear();
              known.set(id, response.files);
              results[index] = response.files;
            }
          } catch {
            // A file list is a bonus of Preview: without it the conflict check skips the package.
            results[index] = undefined;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, packages.length) }, worker));
      return results;
    },
  };
}
