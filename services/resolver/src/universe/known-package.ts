import type { catalogV1 } from "@tailor/proto";
import type { UniversePackage } from "@tailor/solver";

/** What the resolver knows of a repository besides its packages. */
export interface RepositoryFacts {
  readonly name: string;
  /** apk tag without "@", or undefined for the default repositories. */
  readonly tag: string | undefined;
  /** Preference order (lower first), as apk's repository order. */
  readonly priority: number;
}

/** One package of the universe with the catalog facts the solver does not need. */
export interface KnownPackage {
  /** `repository/arch/name-version`: unique within the catalog. */
  readonly key: string;
  /** The repository arch it is listed under. */
  readonly arch: string;
  readonly pkg: UniversePackage;
  /** True when an end-of-life rule covers this version: never chosen for a closure. */
  readonly endOfLife: boolean;
  readonly description: string;
}

/** The key of a package version within the catalog. */
export function knownPackageKey(parts: {
  repository: string;
  arch: string;
  name: string;
  version: string;
}): string {
  return `${parts.repository}/${parts.arch}/${parts.name}-${parts.version}`;
}

/** A catalog Package as the resolver keeps it. */
export function knownPackageFromCatalog(
  message: catalogV1.Package,
  repository: RepositoryFacts,
): KnownPackage {
  const pkg: UniversePackage = {
    name: message.name,
    version: message.version,
    arch: message.arch,
    repository: message.repository,
    ...(repository.tag === undefined ? {} : { tag: repository.tag }),
    checksum: message.checksum,
    size: Number(message.size),
    installedSize: Number(message.installedSize),
    depends: message.depends,
    provides: message.provides,
    installIf: message.installIf,
    ...(message.providerPriority === undefined
      ? {}
      : { providerPriority: message.providerPriority }),
    ...(message.origin === "" ? {} : { origin: message.origin }),
    repositoryPriority: repository.priority,
  };
  return {
    key: knownPackageKey(message),
    arch: message.arch,
    pkg,
    endOfLife: message.endOfLife,
    description: message.description,
  };
}
