import { sleepUnlessAborted } from "@tailor/bus";
import { Code, TailorError } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { catalogV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { KnownPackage, RepositoryFacts } from "./known-package.js";
import { knownPackageFromCatalog } from "./known-package.js";
import type { LoadTicket, PackageUniverse } from "./package-universe.js";

/** What the loader needs: the catalog, called as the resolver itself. */
export interface UniverseLoaderDependencies {
  readonly catalog: ServiceClient<typeof catalogV1.CatalogService>;
  /** Metadata of the resolver's own credential (TAILOR_SERVICE_API_KEY). */
  serviceMetadata(): Promise<Record<string, string>>;
  readonly universe: PackageUniverse;
  readonly logger: Logger;
  /** Where full loads come from instead of the catalog (tests, tools). */
  readonly source?: PackageSource;
}

/** Every package of every repository and arch, for a full load. */
export type PackageSource = (signal?: AbortSignal) => Promise<Iterable<KnownPackage>>;

/** Loads the universe from the catalog and applies published packages to it. */
export interface UniverseLoader {
  /** Reads every repository and arch from the catalog and replaces the universe. */
  loadAll(signal?: AbortSignal): Promise<{ packages: number; durationMs: number }>;
  /**
   * Keeps calling {@link loadAll} with backoff (1 s doubling to 30 s, with
   * jitter) until it succeeds or `signal` aborts; a catalog that is not up
   * yet is normal while a platform starts.
   */
  loadAllWithRetry(signal: AbortSignal): Promise<void>;
  /**
   * Fetches one published package and adds it to the universe; false when the
   * catalog no longer has it (nothing to add).
   */
  applyPublished(
    event: { repository: string; arch: string; name: string; version: string },
    signal?: AbortSignal,
  ): Promise<boolean>;
}

/** Deadline of one ListIndexEntries stream (a large index is a few thousand rows). */
const STREAM_DEADLINE_MS = 120_000;
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** Creates the loader over the catalog client. */
export function createUniverseLoader(deps: UniverseLoaderDependencies): UniverseLoader {
  const repositories = new Map<string, RepositoryFacts>();

  function rememberRepositories(list: readonly catalogV1.Repository[]): void {
    repositories.clear();
    list.forEach((repository, index) => {
      repositories.set(repository.name, facts(repository, index));
    });
  }

  async function repositoryFacts(name: string, signal?: AbortSignal): Promise<RepositoryFacts> {
    const known = repositories.get(name);
    if (known !== undefined) return known;
    // A repository created after the last full load: learn its tag.
    const { repository } = await deps.catalog.getRepository(
      { name },
      { metadata: await deps.serviceMetadata(), ...(signal === undefined ? {} : { signal }) },
    );
    const learned = facts(
      repository ?? ({ name, tag: "" } as catalogV1.Repository),
      repositories.size,
    );
    repositories.set(name, learned);
    return learned;
  }

  async function loadInto(
    ticket: LoadTicket,
    signal: AbortSignal | undefined,
  ): Promise<{ packages: number; durationMs: number }> {
    const started = performance.now();
    if (deps.source !== undefined) {
      const packages = [...(await deps.source(signal))];
      deps.universe.replaceAll(packages, ticket);
      return { packages: packages.length, durationMs: Math.round(performance.now() - started) };
    }
    const options = { metadata: await deps.serviceMetadata(), ...(signal ? { signal } : {}) };
    const { repositories: list } = await deps.catalog.listRepositories({}, options);
    const packages: KnownPackage[] = [];
    const skipped: string[] = [];
    list.forEach((repository, index) => {
      repositories.set(repository.name, facts(repository, index));
    });
    for (const [index, repository] of list.entries()) {
      const repositoryFacts = facts(repository, index);
      for (const arch of repository.arches) {
        const stream = deps.catalog.listIndexEntries(
          { repository: repository.name, arch },
          { ...options, deadlineMs: STREAM_DEADLINE_MS },
        );
        for await (const batch of stream) {
          for (const message of batch.packages) {
            const problem = catalogEntryProblem(message);
            if (problem === undefined)
              packages.push(knownPackageFromCatalog(message, repositoryFacts));
            else skipped.push(`${repository.name}/${arch}: ${problem}`);
          }
        }
      }
    }
    rememberRepositories(list);
    if (skipped.length > 0) {
      deps.logger.warn(
        { skipped: skipped.length, examples: skipped.slice(0, 10) },
        "catalog entries the resolver cannot use were left out of the package universe",
      );
    }
    deps.universe.replaceAll(packages, ticket);
    const durationMs = Math.round(performance.now() - started);
    deps.logger.info(
      {
        packages: packages.length,
        skipped: skipped.length,
        repositories: list.length,
        arches: deps.universe.arches(),
        durationMs,
      },
      "package universe loaded from the catalog",
    );
    return { packages: packages.length, durationMs };
  }

  const loader: UniverseLoader = {
    async loadAll(signal) {
      const ticket = deps.universe.beginLoad();
      try {
        return await loadInto(ticket, signal);
      } finally {
        ticket.end();
      }
    },

    async loadAllWithRetry(signal) {
      let waitMs = RETRY_FIRST_MS;
      for (let attempt = 1; !signal.aborted; attempt++) {
        try {
          await loader.loadAll(signal);
          return;
        } catch (error) {
          if (signal.aborted) return;
          const delay = Math.round(waitMs * (0.5 + Math.random()));
          deps.logger.warn(
            { err: error, attempt, retryInMs: delay },
            "cannot load the package universe from the catalog yet; retrying",
          );
          await sleepUnlessAborted(delay, signal);
          waitMs = Math.min(waitMs * 2, RETRY_MAX_MS);
        }
      }
    },

    async applyPublished(event, signal) {
      const repository = await repositoryFacts(event.repository, signal);
      try {
        const { package: message } = await deps.catalog.getPackage(
          {
            repository: event.repository,
            arch: event.arch,
            name: event.name,
            version: event.version,
          },
          { metadata: await deps.serviceMetadata(), ...(signal === undefined ? {} : { signal }) },
        );
        if (message === undefined) return false;
        const problem = catalogEntryProblem(message);
        if (problem !== undefined) {
          deps.logger.warn(
            { repository: event.repository, arch: event.arch, problem },
            "published package left out of the package universe",
          );
          return false;
        }
        deps.universe.upsert(knownPackageFromCatalog(message, repository));
        return true;
      } catch (error) {
        // Removed again before we asked (a later sync): the next full load agrees.
        if (error instanceof TailorError && error.code === Code.NOT_FOUND) return false;
        throw error;
      }
    },
  };
  return loader;
}

/**
 * Why a catalog entry cannot be part of the universe, or undefined when it
 * can: one broken entry is left out (and logged), never the whole load.
 */
export function catalogEntryProblem(
  message: Pick<catalogV1.Package, "name" | "version" | "checksum" | "arch">,
): string | undefined {
  const label = `${message.name || "(no name)"}-${message.version || "(no version)"}`;
  if (message.name.trim() === "" || /\s/.test(message.name)) {
    return `${label}: the package name ${JSON.stringify(message.name)} is not a valid apk name`;
  }
  // Versions apk calls invalid stay (Alpine ships some, e.g. opensmtpd 6.8.0p2-r4; apk installs them).
  if (message.version.trim() === "") return `${label}: the entry has no version`;
  // The solver merges packages with equal checksums: an empty one would hide others.
  if (message.checksum.trim() === "") return `${label}: the entry has no checksum`;
  if (message.arch.trim() === "") return `${label}: the entry has no arch`;
  return undefined;
}

function facts(repository: catalogV1.Repository, index: number): RepositoryFacts {
  const tag = repository.tag.replace(/^@/, "");
  return { name: repository.name, tag: tag === "" ? undefined : tag, priority: index };
}
