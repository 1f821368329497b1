import { hostname } from "node:os";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { requireAdministrator } from "@tailor/auth";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import type { CatalogDependencies } from "../catalog-dependencies.js";
import type { EndOfLifeRule, EndOfLifeRules } from "../end-of-life/end-of-life-rule.js";
import {
  endOfLifeRuleFor,
  validateRulePackageName,
  validateRuleVersion,
} from "../end-of-life/end-of-life-rule.js";
import { PackageNotFoundError } from "../packages/errors.js";
import type { CatalogPackage, PackageKey } from "../packages/package.js";
import { describePackage, packageFile } from "../packages/package.js";
import { createPackageFetcher } from "../packages/package-fetcher.js";
import { createPackageFileReader } from "../packages/package-files.js";
import {
  compareForListing,
  compareProviders,
  compareVersionsFirst,
  newestVersions,
  pageOf,
} from "../packages/package-listing.js";
import { publishPackage } from "../packages/package-publisher.js";
import { InvalidFieldError, RepositoryNotFoundError } from "../repositories/errors.js";
import type { Repository, RepositoryKind } from "../repositories/repository.js";
import {
  validateArches,
  validateNewRepository,
  validateRepositoryName,
  validateTrustedKeys,
} from "../repositories/repository.js";
import {
  deleteEndOfLifeRule,
  listEndOfLifeRules,
  loadEndOfLifeRules,
  upsertEndOfLifeRule,
} from "../store/end-of-life-store.js";
import {
  deletePackagesOfArches,
  findPackage,
  findPackages,
  findProviderPackages,
  packagePage,
} from "../store/package-store.js";
import {
  countPackagesByRepository,
  findRepository,
  forgetAppliedIndexes,
  insertRepository,
  listRepositories,
  updateRepositorySettings,
} from "../store/repository-store.js";
import { listSyncs } from "../store/sync-store.js";
import type { RepositorySync } from "../sync/repository-sync.js";
import { createRepositorySyncer } from "../sync/repository-syncer.js";
import { withStatus } from "./to-status.js";

type CatalogImpl = ServiceImpl<typeof catalogV1.CatalogService>;

/** Handlers for repositories, syncs, uploads, package queries and end-of-life rules. */
export type PackageHandlers = Pick<
  CatalogImpl,
  | "createRepository"
  | "updateRepository"
  | "getRepository"
  | "listRepositories"
  | "syncRepository"
  | "listRepositorySyncs"
  | "publishPackage"
  | "searchPackages"
  | "listPackageVersions"
  | "getPackage"
  | "findProviders"
  | "fetchPackage"
  | "getPackageFiles"
  | "listIndexEntries"
  | "setEndOfLife"
  | "listEndOfLife"
>;

/** Page size of SearchPackages when the request gives none, and the largest it allows. */
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
/** Packages per ListIndexEntries message. */
const INDEX_BATCH = 500;
const DEFAULT_SYNC_LIMIT = 20;
const MAX_SYNC_LIMIT = 200;

// ---------------------------------------------------------------------------
// Domain → message

const KIND_TO_MESSAGE: Record<RepositoryKind, catalogV1.RepositoryKind> = {
  upstream: catalogV1.RepositoryKind.UPSTREAM,
  hosted: catalogV1.RepositoryKind.HOSTED,
};

function repositoryMessage(
  repository: Repository,
  packageCount: number,
): MessageInitShape<typeof catalogV1.RepositorySchema> {
  return {
    name: repository.name,
    kind: KIND_TO_MESSAGE[repository.kind],
    url: repository.url,
    arches: [...repository.arches],
    trustedKeys: repository.trustedKeys.map((key) => ({ name: key.name, pem: key.pem })),
    mirror: repository.mirror,
    tag: repository.tag,
    createdAt: timestampFromDate(repository.createdAt),
    ...(repository.lastSyncedAt === undefined
      ? {}
      : { lastSyncedAt: timestampFromDate(repository.lastSyncedAt) }),
    packageCount: BigInt(packageCount),
  };
}

function packageMessage(
  pkg: CatalogPackage,
  rules: EndOfLifeRules,
): MessageInitShape<typeof catalogV1.PackageSchema> {
  return {
    repository: pkg.repository,
    arch: pkg.arch,
    name: pkg.name,
    version: pkg.version,
    checksum: pkg.checksum,
    size: BigInt(pkg.size),
    installedSize: BigInt(pkg.installedSize),
    description: pkg.description,
    url: pkg.url,
    license: pkg.license,
    origin: pkg.origin,
    maintainer: pkg.maintainer,
    ...(pkg.buildTime === undefined
      ? {}
      : { buildTime: timestampFromDate(new Date(pkg.buildTime * 1000)) }),
    commit: pkg.commit,
    ...(pkg.providerPriority === undefined ? {} : { providerPriority: pkg.providerPriority }),
    depends: [...pkg.depends],
    provides: [...pkg.provides],
    installIf: [...pkg.installIf],
    endOfLife: endOfLifeRuleFor(rules, pkg.name, pkg.version) !== undefined,
    blobDigest: pkg.blobDigest ?? "",
    file: packageFile(pkg),
  };
}

function syncMessage(
  sync: RepositorySync,
): MessageInitShape<typeof catalogV1.RepositorySyncSchema> {
  return {
    id: sync.id,
    repository: sync.repository,
    trigger: sync.trigger,
    status:
      sync.status === "succeeded" ? catalogV1.SyncStatus.SUCCEEDED : catalogV1.SyncStatus.FAILED,
    error: sync.error,
    arches: sync.arches.map((arch) => ({ ...arch })),
    startedAt: timestampFromDate(sync.startedAt),
    finishedAt: timestampFromDate(sync.finishedAt),
  };
}

function endOfLifeMessage(rule: EndOfLifeRule): MessageInitShape<typeof catalogV1.EndOfLifeSchema> {
  return {
    packageName: rule.packageName,
    beforeVersion: rule.beforeVersion ?? "",
    reason: rule.reason,
    source: rule.source,
    updatedAt: timestampFromDate(rule.updatedAt),
  };
}

// ---------------------------------------------------------------------------
// Request checks

function required(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === "") throw new InvalidFieldError(field, `${field} is required`);
  return trimmed;
}

function optional(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function packageKey(request: {
  repository: string;
  arch: string;
  name: string;
  version: string;
}): PackageKey {
  return {
    repository: required(request.repository, "repository"),
    arch: required(request.arch, "arch"),
    name: required(request.name, "name"),
    version: required(request.version, "version"),
  };
}

function repositoryKind(kind: catalogV1.RepositoryKind): RepositoryKind | undefined {
  if (kind === catalogV1.RepositoryKind.UPSTREAM) return "upstream";
  if (kind === catalogV1.RepositoryKind.HOSTED) return "hosted";
  return undefined;
}

/** Authenticated and a platform administrator, or the call is refused. */
async function administrator(
  deps: CatalogDependencies,
  ctx: HandlerContext,
  action: string,
): Promise<void> {
  requireAdministrator(await deps.authenticate(ctx), action);
}

// ---------------------------------------------------------------------------

/** gRPC handlers of the package half of tailor.catalog.v1.CatalogService. */
export function createPackageHandlers(deps: CatalogDependencies): PackageHandlers {
  const fetcher = createPackageFetcher(deps);
  const fileReader = createPackageFileReader(deps);
  const syncer = createRepositorySyncer(deps, {
    fetcher,
    owner: `${hostname()}:${process.pid}:api`,
  });

  async function existingRepository(name: string, field = "name"): Promise<Repository> {
    validateRepositoryName(name, field);
    const repository = await findRepository(deps.db, name);
    if (repository === undefined) throw new RepositoryNotFoundError(name, field);
    return repository;
  }

  async function withCount(repository: Repository) {
    const counts = await countPackagesByRepository(deps.db, [repository.name]);
    return repositoryMessage(repository, counts.get(repository.name) ?? 0);
  }

  return {
    createRepository: (request, ctx) =>
      withStatus(async () => {
        await administrator(deps, ctx, "create repositories");
        const repository = validateNewRepository({
          name: request.name.trim(),
          kind: repositoryKind(request.kind),
          url: request.url,
          arches: request.arches.map((arch) => arch.trim()),
          trustedKeys: request.trustedKeys,
          mirror: request.mirror,
          tag: request.tag,
        });
        const created = await insertRepository(deps.db, repository, deps.now());
        deps.logger.info(
          { repository: created.name, kind: created.kind, url: created.url },
          "repository created",
        );
        return { repository: repositoryMessage(created, 0) };
      }),

    updateRepository: (request, ctx) =>
      withStatus(async () => {
        await administrator(deps, ctx, "change repositories");
        const current = await existingRepository(request.name.trim());
        const arches = validateArches(request.arches.map((arch) => arch.trim()));
        const trustedKeys = validateTrustedKeys(request.trustedKeys);
        if (current.kind === "hosted" && request.mirror) {
          throw new InvalidFieldError(
            "mirror",
            "mirror applies to upstream repositories only: a hosted repository always keeps its packages' bytes",
          );
        }
        const droppedArches = current.arches.filter((arch) => !arches.includes(arch));
        const keysChanged = JSON.stringify(current.trustedKeys) !== JSON.stringify(trustedKeys);
        const updated = await deps.db.transaction().execute(async (trx) => {
          const repository = await updateRepositorySettings(
            trx,
            current.name,
            { arches, trustedKeys, mirror: request.mirror },
            deps.now(),
          );
          if (repository === undefined) throw new RepositoryNotFoundError(current.name);
          // Packages of a dropped arch are no longer offered; new keys must verify the next index again.
          await deletePackagesOfArches(trx, current.name, droppedArches);
          await forgetAppliedIndexes(trx, current.name, keysChanged ? undefined : droppedArches);
          return repository;
        });
        deps.logger.info(
          { repository: updated.name, droppedArches, keysChanged },
          "repository updated",
        );
        return { repository: await withCount(updated) };
      }),

    getRepository: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        return { repository: await withCount(await existingRepository(request.name.trim())) };
      }),

    listRepositories: (_request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const [repositories, counts] = await Promise.all([
          listRepositories(deps.db),
          countPackagesByRepository(deps.db),
        ]);
        return {
          repositories: repositories.map((repository) =>
            repositoryMessage(repository, counts.get(repository.name) ?? 0),
          ),
        };
      }),

    syncRepository: (request, ctx) =>
      withStatus(async () => {
        await administrator(deps, ctx, "sync repositories");
        const name = validateRepositoryName(request.name.trim());
        // The caller's deadline only bounds waiting for another process's sync of the same repository.
        const sync = await syncer.sync(name, { trigger: "manual", wait: true, signal: ctx.signal });
        if (sync === undefined) throw new Error("a waiting sync returned without syncing");
        return { sync: syncMessage(sync) };
      }),

    listRepositorySyncs: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const repository = await existingRepository(request.name.trim());
        const limit = Math.min(
          request.limit === 0 ? DEFAULT_SYNC_LIMIT : request.limit,
          MAX_SYNC_LIMIT,
        );
        return { syncs: (await listSyncs(deps.db, repository.name, limit)).map(syncMessage) };
      }),

    publishPackage: (request, ctx) =>
      withStatus(async () => {
        await administrator(deps, ctx, "publish packages");
        const published = await publishPackage(deps, {
          repository: request.repository.trim(),
          content: request.content,
          blobDigest: request.blobDigest,
        });
        return { package: packageMessage(published.pkg, await loadEndOfLifeRules(deps.db)) };
      }),

    searchPackages: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const size = Math.min(
          request.page?.size === undefined || request.page.size === 0
            ? DEFAULT_PAGE_SIZE
            : request.page.size,
          MAX_PAGE_SIZE,
        );
        const words = request.text.split(/\s+/).filter((word) => word !== "");
        const [found, rules] = await Promise.all([
          findPackages(deps.db, {
            name: optional(request.name),
            prefix: optional(request.prefix),
            words,
            arch: optional(request.arch),
            repository: optional(request.repository),
          }),
          loadEndOfLifeRules(deps.db),
        ]);
        const offered = request.includeEndOfLife
          ? found
          : found.filter((pkg) => endOfLifeRuleFor(rules, pkg.name, pkg.version) === undefined);
        const listed = (request.allVersions ? offered : newestVersions(offered)).sort(
          compareForListing,
        );
        const page = pageOf(listed, request.page?.token ?? "", size);
        return {
          packages: page.packages.map((pkg) => packageMessage(pkg, rules)),
          page: { nextToken: page.nextToken },
        };
      }),

    listPackageVersions: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const name = required(request.name, "name");
        const [found, rules] = await Promise.all([
          findPackages(deps.db, { name, arch: optional(request.arch) }),
          loadEndOfLifeRules(deps.db),
        ]);
        const offered = request.includeEndOfLife
          ? found
          : found.filter((pkg) => endOfLifeRuleFor(rules, pkg.name, pkg.version) === undefined);
        return {
          packages: offered.sort(compareVersionsFirst).map((pkg) => packageMessage(pkg, rules)),
        };
      }),

    getPackage: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const key = packageKey(request);
        const pkg = await findPackage(deps.db, key);
        if (pkg === undefined) throw new PackageNotFoundError(describePackage(key));
        return { package: packageMessage(pkg, await loadEndOfLifeRules(deps.db)) };
      }),

    findProviders: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const name = required(request.name, "name");
        const [found, rules] = await Promise.all([
          findProviderPackages(deps.db, name, optional(request.arch)),
          loadEndOfLifeRules(deps.db),
        ]);
        const offered = request.includeEndOfLife
          ? found
          : found.filter((pkg) => endOfLifeRuleFor(rules, pkg.name, pkg.version) === undefined);
        return {
          packages: offered.sort(compareProviders(name)).map((pkg) => packageMessage(pkg, rules)),
        };
      }),

    fetchPackage: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const fetched = await fetcher.fetch(packageKey(request));
        return {
          package: packageMessage(fetched.pkg, await loadEndOfLifeRules(deps.db)),
          blobDigest: fetched.blobDigest,
          size: BigInt(fetched.size),
          downloaded: fetched.downloaded,
        };
      }),

    getPackageFiles: (request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        const listed = await fileReader.files(packageKey(request));
        return { known: listed.known, files: [...listed.files] };
      }),

    async *listIndexEntries(request, ctx) {
      const { repository, arch, rules } = await withStatus(async () => {
        await deps.authenticate(ctx);
        const found = await existingRepository(request.repository.trim(), "repository");
        const wanted = required(request.arch, "arch");
        if (!found.arches.includes(wanted)) {
          throw new InvalidFieldError(
            "arch",
            `repository "${found.name}" has no arch "${wanted}" (arches: ${found.arches.join(", ")})`,
          );
        }
        return { repository: found, arch: wanted, rules: await loadEndOfLifeRules(deps.db) };
      });
      let after = "0";
      for (;;) {
        ctx.signal.throwIfAborted();
        const page = await packagePage(deps.db, repository.name, arch, after, INDEX_BATCH);
        if (page.packages.length === 0 || page.lastId === undefined) return;
        yield { packages: page.packages.map((pkg) => packageMessage(pkg, rules)) };
        after = page.lastId;
      }
    },

    setEndOfLife: (request, ctx) =>
      withStatus(async () => {
        await administrator(deps, ctx, "change end-of-life rules");
        const packageName = validateRulePackageName(request.packageName, "package_name");
        if (request.supported) {
          await deleteEndOfLifeRule(deps.db, packageName);
          deps.logger.info({ package: packageName }, "end-of-life rule removed");
          return {};
        }
        const rule = await upsertEndOfLifeRule(
          deps.db,
          {
            packageName,
            beforeVersion: validateRuleVersion(request.beforeVersion, "before_version"),
            reason: request.reason.trim(),
            source: "admin",
          },
          deps.now(),
        );
        deps.logger.info(
          { package: packageName, before: rule.beforeVersion },
          "end-of-life rule set",
        );
        return { rule: endOfLifeMessage(rule) };
      }),

    listEndOfLife: (_request, ctx) =>
      withStatus(async () => {
        await deps.authenticate(ctx);
        return { rules: (await listEndOfLifeRules(deps.db)).map(endOfLifeMessage) };
      }),
  };
}
