import { createReadStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApkError, readPackage } from "@tailor/apk";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import { RepositoryNotFoundError } from "../repositories/errors.js";
import type { Repository } from "../repositories/repository.js";
import {
  openRepositorySource,
  UPSTREAM_FETCH_TIMEOUT_MS,
} from "../repositories/repository-source.js";
import { findPackage, packagesWithoutBlob, setPackageBlob } from "../store/package-store.js";
import { findRepository } from "../store/repository-store.js";
import {
  PackageBytesMissingError,
  PackageNotFoundError,
  PackageVerificationError,
} from "./errors.js";
import type { CatalogPackage, PackageKey } from "./package.js";
import { checksumMatches, describePackage, packageFile } from "./package.js";

/** Where a package's bytes are, and whether this call fetched them. */
export interface FetchedPackage {
  readonly pkg: CatalogPackage;
  readonly blobDigest: string;
  readonly size: number;
  /** True when this call downloaded the bytes. */
  readonly downloaded: boolean;
}

/** What mirroring a repository fetched. */
export interface MirrorResult {
  readonly fetched: number;
  readonly failures: readonly { readonly pkg: CatalogPackage; readonly error: unknown }[];
}

/** Brings package bytes into the blob store, verified against the signed index. */
export interface PackageFetcher {
  /**
   * Makes sure the package's bytes are in the blob store: downloads them from
   * its upstream repository on first use, verifies them (the `Q1` identity
   * of the control segment equals the index's `C:`, and the data matches the
   * datahash the control segment carries) and only then stores them.
   * Concurrent calls for one package share one download (only the first reports `downloaded`).
   * @throws PackageNotFoundError, PackageVerificationError, PackageBytesMissingError,
   *   UpstreamFileMissingError, UpstreamUnavailableError, UpstreamFileTooLargeError
   */
  fetch(key: PackageKey): Promise<FetchedPackage>;
  /** Fetches every package of the repository that has no bytes yet, a few at a time; never throws for one package. */
  mirror(repository: Repository, signal?: AbortSignal): Promise<MirrorResult>;
}

/** Downloads running at once while mirroring. */
const MIRROR_CONCURRENCY = 4;

/** Creates the fetcher; one per process is enough (it de-duplicates concurrent downloads). */
export function createPackageFetcher(deps: CatalogDependencies): PackageFetcher {
  const inFlight = new Map<string, Promise<FetchedPackage>>();

  // No caller's signal reaches a download: it may be shared by several callers; the fetch timeout bounds it.
  async function download(pkg: CatalogPackage, repository: Repository): Promise<FetchedPackage> {
    const id = describePackage(pkg);
    const source = openRepositorySource(repository.url, {
      timeoutMs: UPSTREAM_FETCH_TIMEOUT_MS,
    });
    const file = packageFile(pkg);
    const location = source.locate(file);
    // Spooled to a private temp file: verified before anything reaches the blob store, in bounded memory.
    const directory = await mkdtemp(join(tmpdir(), "tailor-catalog-fetch-"));
    try {
      const spool = join(directory, "package.apk");
      let size = 0;
      const handle = await open(spool, "wx");
      try {
        for await (const chunk of source.open(file, { maxBytes: deps.config.maxPackageBytes })) {
          await handle.write(chunk);
          size += chunk.byteLength;
        }
      } finally {
        await handle.close();
      }
      let read: Awaited<ReturnType<typeof readPackage>>;
      try {
        read = await readPackage(createReadStream(spool), { file: location });
      } catch (error) {
        if (error instanceof ApkError) {
          throw new PackageVerificationError(
            id,
            "corrupt",
            `package ${id} downloaded from ${location} is damaged or altered: ${error.message}; nothing was stored`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      if (!checksumMatches(read, pkg.checksum)) {
        throw new PackageVerificationError(
          id,
          "checksum_mismatch",
          `package ${id} downloaded from ${location} has checksum ${read.checksum}, but the signed index lists ${pkg.checksum}; nothing was stored`,
        );
      }
      if (pkg.size > 0 && pkg.size !== size) {
        // apk identifies packages by C: only; published indexes have had S: off by a few bytes.
        deps.logger.warn(
          { package: id, indexSize: pkg.size, size },
          "package size differs from the index; its checksum matches",
        );
      }
      const info = await deps.blobs.put(createReadStream(spool), { expectedSize: size });
      await setPackageBlob(deps.db, pkg, info.digest);
      deps.logger.info(
        { package: id, blobDigest: info.digest, size: info.size },
        "fetched package",
      );
      return {
        pkg: { ...pkg, blobDigest: info.digest },
        blobDigest: info.digest,
        size: info.size,
        downloaded: true,
      };
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  async function fetchOnce(key: PackageKey): Promise<FetchedPackage> {
    const pkg = await findPackage(deps.db, key);
    if (pkg === undefined) throw new PackageNotFoundError(describePackage(key));
    if (pkg.blobDigest !== undefined) {
      const stored = await deps.blobs.stat(pkg.blobDigest);
      if (stored !== undefined)
        return { pkg, blobDigest: pkg.blobDigest, size: stored.size, downloaded: false };
    }
    const repository = await findRepository(deps.db, pkg.repository);
    if (repository === undefined) throw new RepositoryNotFoundError(pkg.repository, "repository");
    if (repository.kind === "hosted")
      throw new PackageBytesMissingError(describePackage(pkg), pkg.blobDigest);
    return download(pkg, repository);
  }

  const fetcher: PackageFetcher = {
    async fetch(key) {
      const id = describePackage(key);
      const running = inFlight.get(id);
      // A caller that joins a download in progress did not download anything itself.
      if (running !== undefined) return { ...(await running), downloaded: false };
      const started = fetchOnce(key).finally(() => inFlight.delete(id));
      inFlight.set(id, started);
      return started;
    },
    async mirror(repository, signal) {
      const missing = await packagesWithoutBlob(deps.db, repository.name);
      const failures: { pkg: CatalogPackage; error: unknown }[] = [];
      let fetched = 0;
      let next = 0;
      const worker = async () => {
        while (next < missing.length && signal?.aborted !== true) {
          const pkg = missing[next++] as CatalogPackage;
          try {
            if ((await fetcher.fetch(pkg)).downloaded) fetched++;
          } catch (error) {
            failures.push({ pkg, error });
          }
        }
      };
      await Promise.all(Array.from({ length: MIRROR_CONCURRENCY }, worker));
      return { fetched, failures };
    },
  };
  return fetcher;
}
