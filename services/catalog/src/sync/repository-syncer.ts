import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { IndexEntry } from "@tailor/apk";
import {
  ApkError,
  BadSignatureError,
  DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES,
  parseSignatureEntryName,
  readApkIndexArchive,
  readTarGzip,
  UntrustedSignatureError,
} from "@tailor/apk";
import { sha256Digest } from "@tailor/blob";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import { enqueuePackagesPublished } from "../events/package-events.js";
import type { CatalogPackage } from "../packages/package.js";
import { isPathSafe, packageFromIndexEntry } from "../packages/package.js";
import type { PackageFetcher } from "../packages/package-fetcher.js";
import { RepositoryKindError, RepositoryNotFoundError } from "../repositories/errors.js";
import type { Repository } from "../repositories/repository.js";
import { repositoryKeyring } from "../repositories/repository.js";
import type { RepositorySource } from "../repositories/repository-source.js";
import {
  openRepositorySource,
  UPSTREAM_FETCH_TIMEOUT_MS,
} from "../repositories/repository-source.js";
import {
  countPackages,
  deletePackagesById,
  insertPackages,
  storedPackageKeys,
} from "../store/package-store.js";
import type { AppliedIndex } from "../store/repository-store.js";
import {
  acquireSyncLease,
  findAppliedIndexes,
  findRepository,
  markRepositorySynced,
  releaseSyncLease,
  renewSyncLease,
  saveAppliedIndex,
} from "../store/repository-store.js";
import { insertSync, setSyncError } from "../store/sync-store.js";
import { IndexRejectedError, SyncLeaseLostError } from "./errors.js";
import { diffIndex } from "./index-diff.js";
import type { ArchSyncResult, RepositorySync, SyncTrigger } from "./repository-sync.js";

/** Largest APKINDEX.tar.gz downloaded (Alpine's are about 2 MiB). */
const MAX_INDEX_BYTES = 128 * 1024 * 1024;
/** A sync holds its repository's lease this long unless it renews it. */
const LEASE_MS = 120_000;
const LEASE_RENEW_MS = 30_000;
const LEASE_POLL_MS = 250;

/** Options of {@link RepositorySyncer.sync}. */
export interface SyncOptions {
  readonly trigger: SyncTrigger;
  /**
   * When another process is syncing the repository: wait for it (true, a
   * manual sync) or give up at once and return undefined (false, the scheduler).
   */
  readonly wait: boolean;
  /** Stops waiting for the lease, and stops mirroring between packages. */
  readonly signal?: AbortSignal | undefined;
}

/** Syncs upstream repositories. */
export interface RepositorySyncer {
  /**
   * Downloads and verifies every arch's APKINDEX and applies the difference
   * in one transaction: all arches or nothing. A failed sync is recorded with
   * its error and rethrown; it changes no packages.
   * @returns the recorded sync, or undefined when `wait` is false and another process holds the repository.
   * @throws RepositoryNotFoundError, RepositoryKindError, IndexRejectedError,
   *   UpstreamFileMissingError, UpstreamUnavailableError, UpstreamFileTooLargeError
   */
  sync(name: string, options: SyncOptions): Promise<RepositorySync | undefined>;
}

/** One arch's verified index, ready to apply. */
interface FetchedIndex {
  readonly arch: string;
  readonly applied: AppliedIndex;
  /** Undefined when the bytes equal the last applied index. */
  readonly entries: IndexEntry[] | undefined;
}

/** Creates a syncer; `owner` names this process in sync leases. */
export function createRepositorySyncer(
  deps: CatalogDependencies,
  collaborators: { fetcher: PackageFetcher; owner: string },
): RepositorySyncer {
  const { fetcher, owner } = collaborators;

  async function takeLease(
    name: string,
    leaseOwner: string,
    options: SyncOptions,
  ): Promise<boolean> {
    for (;;) {
      if (await acquireSyncLease(deps.db, name, leaseOwner, LEASE_MS, deps.now())) return true;
      if (!options.wait) return false;
      await sleep(
        LEASE_POLL_MS,
        undefined,
        options.signal === undefined ? {} : { signal: options.signal },
      );
    }
  }

  async function fetchIndex(
    repository: Repository,
    source: RepositorySource,
    arch: string,
    previous: AppliedIndex | undefined,
  ): Promise<FetchedIndex> {
    const path = `${arch}/APKINDEX.tar.gz`;
    const location = source.locate(path);
    const bytes = await source.read(path, { maxBytes: MAX_INDEX_BYTES });
    const indexDigest = sha256Digest(bytes);
    if (previous !== undefined && previous.indexDigest === indexDigest) {
      return { arch, applied: previous, entries: undefined };
    }
    const keyring = repositoryKeyring(repository);
    const where = `index ${location} (arch ${arch} of repository "${repository.name}")`;
    let archive: Awaited<ReturnType<typeof readApkIndexArchive>>;
    try {
      archive = await readApkIndexArchive(bytes, {
        file: location,
        keyring,
        requireSignature: true,
      });
    } catch (error) {
      if (error instanceof UntrustedSignatureError) {
        const signers = await signatureKeyNames(bytes);
        const trusted = keyring.names.map((k) => `"${k}"`).join(", ");
        const message =
          signers.length === 0
            ? `${where} is not signed; the repository trusts only signed indexes (keys ${trusted})`
            : `${where} is signed by ${signers.map((k) => `"${k}"`).join(", ")}, which the repository does not trust (trusted: ${trusted})`;
        throw new IndexRejectedError(repository.name, arch, "untrusted", signers, message, {
          cause: error,
        });
      }
      if (error instanceof BadSignatureError) {
        throw new IndexRejectedError(
          repository.name,
          arch,
          "bad_signature",
          [],
          `${where} has a signature by a trusted key that does not verify (altered or corrupt): ${error.detail}`,
          { cause: error },
        );
      }
      if (error instanceof ApkError) {
        throw new IndexRejectedError(
          repository.name,
          arch,
          "unreadable",
          [],
          `${where} is not a readable APKINDEX: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    const signedBy =
      archive.signatures.find((signature) => signature.verdict === "ok")?.keyName ?? "";
    const entries = archive.entries.filter(
      (entry) => isPathSafe(entry.name) && isPathSafe(entry.version),
    );
    const dropped = archive.entries.length - entries.length + archive.skipped.length;
    if (dropped > 0) {
      deps.logger.warn(
        { repository: repository.name, arch, dropped },
        "index entries apk could not use were skipped",
      );
    }
    return {
      arch,
      applied: { arch, indexDigest, signedBy, description: archive.description ?? "" },
      entries,
    };
  }

  /** Applies every arch's difference, the outbox events and the sync record in one transaction. */
  async function apply(
    repository: Repository,
    indexes: readonly FetchedIndex[],
    record: Omit<RepositorySync, "arches" | "finishedAt">,
  ) {
    return deps.db.transaction().execute(async (trx) => {
      const arches: ArchSyncResult[] = [];
      const addedAt = deps.now();
      for (const index of indexes) {
        if (index.entries === undefined) {
          arches.push({
            arch: index.arch,
            indexDigest: index.applied.indexDigest,
            signedBy: index.applied.signedBy,
            added: 0,
            removed: 0,
            unchanged: await countPackages(trx, repository.name, index.arch),
            indexUnchanged: true,
          });
          continue;
        }
        const diff = diffIndex(
          await storedPackageKeys(trx, repository.name, index.arch),
          index.entries,
        );
        const added: CatalogPackage[] = diff.added.map((entry) =>
          packageFromIndexEntry(repository.name, index.arch, entry, "sync"),
        );
        await deletePackagesById(trx, diff.removedIds);
        await insertPackages(trx, added, addedAt);
        await enqueuePackagesPublished(trx, added, addedAt);
        await saveAppliedIndex(trx, repository.name, index.applied, addedAt);
        arches.push({
          arch: index.arch,
          indexDigest: index.applied.indexDigest,
          signedBy: index.applied.signedBy,
          added: added.length,
          removed: diff.removedIds.length,
          unchanged: diff.unchanged,
          indexUnchanged: false,
        });
      }
      const finishedAt = deps.now();
      const sync: RepositorySync = { ...record, arches, finishedAt };
      await markRepositorySynced(trx, repository.name, finishedAt);
      await insertSync(trx, sync);
      return sync;
    });
  }

  async function run(
    repository: Repository,
    trigger: SyncTrigger,
    signal: AbortSignal | undefined,
    lease: { lost: boolean },
  ) {
    const startedAt = deps.now();
    const record = {
      id: randomUUID(),
      repository: repository.name,
      trigger,
      status: "succeeded" as const,
      error: "",
      startedAt,
    };
    let indexes: FetchedIndex[];
    try {
      const source = openRepositorySource(repository.url, {
        timeoutMs: UPSTREAM_FETCH_TIMEOUT_MS,
      });
      const applied = await findAppliedIndexes(deps.db, repository.name);
      // Every arch is downloaded and verified before anything is written.
      indexes = [];
      for (const arch of repository.arches)
        indexes.push(await fetchIndex(repository, source, arch, applied.get(arch)));
      if (lease.lost) throw new SyncLeaseLostError(repository.name);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await insertSync(deps.db, {
        ...record,
        status: "failed",
        error: message,
        arches: [],
        finishedAt: deps.now(),
      });
      deps.logger.warn(
        { repository: repository.name, trigger, err: error },
        "repository sync failed",
      );
      throw error;
    }
    const sync = await apply(repository, indexes, record);
    const added = sync.arches.reduce((sum, arch) => sum + arch.added, 0);
    const removed = sync.arches.reduce((sum, arch) => sum + arch.removed, 0);
    deps.logger.info({ repository: repository.name, trigger, added, removed }, "repository synced");
    await deps.events.flushAfterCommit();
    if (!repository.mirror) return sync;
    const mirrored = await fetcher.mirror(repository, signal);
    if (mirrored.failures.length === 0) return sync;
    const first = mirrored.failures[0];
    const firstMessage = first?.error instanceof Error ? first.error.message : String(first?.error);
    const note = `mirroring could not fetch ${mirrored.failures.length} package(s); they will be fetched on first use. First failure: ${firstMessage}`;
    await setSyncError(deps.db, sync.id, note);
    deps.logger.warn({ repository: repository.name, failures: mirrored.failures.length }, note);
    return { ...sync, error: note };
  }

  return {
    async sync(name, options) {
      const repository = await findRepository(deps.db, name);
      if (repository === undefined) throw new RepositoryNotFoundError(name);
      if (repository.kind !== "upstream") {
        throw new RepositoryKindError(
          name,
          repository.kind,
          `repository "${name}" is hosted: it has no upstream index to sync, its packages come from PublishPackage`,
        );
      }
      // One owner per call: two syncs in this very process exclude each other too.
      const leaseOwner = `${owner}/${randomUUID()}`;
      if (!(await takeLease(name, leaseOwner, options))) return undefined;
      const lease = { lost: false };
      const renew = setInterval(() => {
        renewSyncLease(deps.db, name, leaseOwner, LEASE_MS).then(
          (held) => {
            if (!held) lease.lost = true;
          },
          (error: unknown) =>
            deps.logger.warn({ repository: name, err: error }, "could not renew the sync lease"),
        );
      }, LEASE_RENEW_MS);
      renew.unref();
      try {
        // Read again under the lease: settings may have changed while waiting.
        const current = (await findRepository(deps.db, name)) ?? repository;
        return await run(current, options.trigger, options.signal, lease);
      } finally {
        clearInterval(renew);
        await releaseSyncLease(deps.db, name, leaseOwner).catch((error: unknown) =>
          deps.logger.warn({ repository: name, err: error }, "could not release the sync lease"),
        );
      }
    },
  };
}

/** Names of the keys an index's signature entries claim, read without trusting them. */
async function signatureKeyNames(bytes: Uint8Array): Promise<string[]> {
  try {
    const { files } = await readTarGzip(bytes, {
      limits: { maxUncompressedBytes: DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES },
    });
    const names: string[] = [];
    for (const file of files) {
      const parsed = parseSignatureEntryName(file.entry.path);
      if (parsed !== undefined && !names.includes(parsed.keyName)) names.push(parsed.keyName);
    }
    return names;
  } catch {
    return [];
  }
}
