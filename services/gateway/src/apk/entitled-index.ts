import type { IndexEntry } from "@tailor/apk";
import { compareVersions, formatApkIndexText } from "@tailor/apk";
import type { CallOptions } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { catalogV1, resolverV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { ApkOrganization } from "./repository-key.js";

/** One package of an organization's repository and where the catalog keeps it. */
export interface EntitledPackageFile {
  readonly entry: IndexEntry;
  /** The catalog repository FetchPackage is asked about. */
  readonly repository: string;
}

/** What an organization's repository holds for one arch: exactly its entitled package versions. */
export interface EntitledIndex {
  readonly org: ApkOrganization;
  readonly arch: string;
  readonly builtAt: Date;
  /** Index entries by name, then newest version first. */
  readonly entries: readonly IndexEntry[];
  /** The same packages by file name, `<name>-<version>.apk`. */
  readonly files: ReadonlyMap<string, EntitledPackageFile>;
}

/** The services an index is built from. */
export interface EntitledIndexSources {
  readonly resolver: Pick<ServiceClient<typeof resolverV1.ResolverService>, "entitledPackages">;
  readonly catalog: Pick<
    ServiceClient<typeof catalogV1.CatalogService>,
    "listRepositories" | "listIndexEntries"
  >;
  readonly logger: Logger;
}

/** The resolver has no packages of this arch: the repository has no such arch directory. */
export class ArchNotServedError extends Error {
  constructor(readonly arch: string) {
    super(`no packages are published for arch "${arch}"`);
    this.name = "ArchNotServedError";
  }
}

/** Time budget of streaming one repository's entries; a large upstream mirror takes a while. */
const LIST_ENTRIES_DEADLINE_MS = 120_000;

/** File name apk-tools asks for: `<name>-<version>.apk`. */
export function packageFileName(entry: Pick<IndexEntry, "name" | "version">): string {
  return `${entry.name}-${entry.version}.apk`;
}

/** The APKINDEX entry of a catalog package, every field apk reads kept. */
export function indexEntryFromCatalog(pkg: catalogV1.Package): IndexEntry {
  const buildTime = pkg.buildTime === undefined ? 0 : Number(pkg.buildTime.seconds);
  return {
    checksum: pkg.checksum,
    name: pkg.name,
    version: pkg.version,
    ...(pkg.arch === "" ? {} : { arch: pkg.arch }),
    size: Number(pkg.size),
    installedSize: Number(pkg.installedSize),
    description: pkg.description,
    url: pkg.url,
    license: pkg.license,
    ...(pkg.origin === "" ? {} : { origin: pkg.origin }),
    ...(pkg.maintainer === "" ? {} : { maintainer: pkg.maintainer }),
    ...(buildTime > 0 ? { buildTime } : {}),
    ...(pkg.commit === "" ? {} : { commit: pkg.commit }),
    ...(pkg.providerPriority === undefined || pkg.providerPriority === 0
      ? {}
      : { providerPriority: pkg.providerPriority }),
    depends: [...pkg.depends],
    provides: [...pkg.provides],
    installIf: [...pkg.installIf],
  };
}

/**
 * Builds an organization's index for `arch`: the resolver's EntitledPackages
 * (every supported version of every entitled name) joined with the catalog's
 * full index entries. A name-version in several repositories is listed once,
 * from the first repository in the catalog's order (the resolver's
 * preference). `call` must carry a token allowed to read the organization.
 * @throws ArchNotServedError when the resolver knows no packages of `arch`.
 */
export async function buildEntitledIndex(
  sources: EntitledIndexSources,
  org: ApkOrganization,
  arch: string,
  call: CallOptions,
  now: Date,
): Promise<EntitledIndex> {
  let entitled: resolverV1.EntitledPackagesResponse;
  try {
    entitled = await sources.resolver.entitledPackages({ orgId: org.id, arch }, call);
  } catch (error) {
    if (
      error instanceof TailorError &&
      error.code === Code.FAILED_PRECONDITION &&
      error.reason === "arch_not_available"
    ) {
      throw new ArchNotServedError(arch);
    }
    throw error;
  }
  const wanted = new Map<string, Set<string>>();
  for (const pkg of entitled.packages) wanted.set(pkg.name, new Set(pkg.versions));

  const files = new Map<string, EntitledPackageFile>();
  if (wanted.size > 0) {
    const { repositories } = await sources.catalog.listRepositories({}, call);
    for (const repository of repositories) {
      if (!repository.arches.includes(arch)) continue;
      const stream = sources.catalog.listIndexEntries(
        { repository: repository.name, arch },
        { ...call, deadlineMs: LIST_ENTRIES_DEADLINE_MS },
      );
      for await (const batch of stream) {
        for (const pkg of batch.packages) {
          if (wanted.get(pkg.name)?.has(pkg.version) !== true) continue;
          const entry = indexEntryFromCatalog(pkg);
          const file = packageFileName(entry);
          if (files.has(file)) continue;
          const problem = unwritable(entry);
          if (problem !== undefined) {
            sources.logger.warn(
              { org: org.name, arch, repository: repository.name, package: file, problem },
              "entitled package left out of the APK index: its entry cannot be written",
            );
            continue;
          }
          files.set(file, { entry, repository: repository.name });
        }
      }
    }
  }
  const entries = [...files.values()]
    .map((file) => file.entry)
    .sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(b.version, a.version),
    );
  return { org, arch, builtAt: now, entries, files };
}

/** Why `entry` cannot be written into an APKINDEX (a newline in a field, a bad checksum), if it cannot. */
function unwritable(entry: IndexEntry): string | undefined {
  try {
    formatApkIndexText([entry]);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
