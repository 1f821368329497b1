/**
 * The solver's public package model and the immutable graph a universe is
 * compiled into (names with their providers and reverse edges, as apk's
 * database holds them).
 */
import type { Dep, Provider } from "./dependency.js";

/** One package of one repository: an APKINDEX entry and where it comes from. */
export interface UniversePackage {
  readonly name: string;
  readonly version: string;
  /** Architecture; `noarch` (or empty) installs on any. */
  readonly arch: string;
  /** Repository name, for output. */
  readonly repository: string;
  /** Repository tag without `@`: such packages are only chosen for atoms pinned `name@tag`. */
  readonly tag?: string;
  /**
   * `C:` identity; packages with the same checksum are one package found in
   * several repositories. An empty checksum identifies nothing: such a package
   * is never merged with another.
   */
  readonly checksum: string;
  readonly size: number;
  readonly installedSize: number;
  readonly depends: readonly string[];
  readonly provides: readonly string[];
  readonly installIf: readonly string[];
  readonly providerPriority?: number;
  readonly origin?: string;
  readonly replaces?: readonly string[];
  /**
   * Order of the repository, as apk's `--repository` order: lower is preferred
   * when everything else ties. Repositories without it keep the order in which
   * their first package was given, after those that have one.
   */
  readonly repositoryPriority?: number;
}

/** A compiled, immutable package universe (see `createUniverse`). */
export interface Universe {
  /** Number of distinct packages (by checksum). */
  readonly size: number;
  /** Number of distinct names, package and provided. */
  readonly nameCount: number;
  /** Repositories in preference order. */
  readonly repositories: readonly { readonly name: string; readonly tag?: string }[];
  /** Packages apk would call broken (unparseable dependencies): not installable. */
  readonly brokenPackages: readonly { readonly package: string; readonly reason: string }[];
}

/** A name: a package name or a provided name, with everything that provides it. */
export interface NameNode {
  readonly id: number;
  readonly name: string;
  readonly providers: Provider[];
  /** Names of packages that depend on this name (and the names those packages provide). */
  readonly rdepends: NameNode[];
  /** Names of packages whose install_if mentions this name. */
  readonly rinstallIf: NameNode[];
}

/** One distinct package of a universe. */
export interface PackageNode {
  readonly id: number;
  readonly info: UniversePackage;
  readonly name: NameNode;
  readonly depends: readonly Dep[];
  /** Provides as atoms: `name=version` (EQUAL) or bare `name` (version null). */
  readonly provides: readonly Dep[];
  readonly installIf: readonly Dep[];
  readonly priority: number;
  /**
   * Indexes of the repositories it is found in, ascending (the first is the
   * preferred one). Set while the universe is built, never changed after.
   */
  repositories: readonly number[];
  /** Ids of the tags of those repositories, ascending, each once (0: untagged). */
  tags: readonly number[];
  /** Why apk would never install it, when it would not (besides arch). */
  readonly brokenReason: string | undefined;
}

/** What a universe holds, reachable only inside this package. */
export interface UniverseData {
  readonly names: Map<string, NameNode>;
  readonly nameList: readonly NameNode[];
  readonly packages: readonly PackageNode[];
  /**
   * Tag names with their `@`; index 0 is the default (untagged) tag "". Every
   * tag after the first has at least one repository.
   */
  readonly tags: readonly string[];
}
