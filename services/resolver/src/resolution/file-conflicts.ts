/** A path two or more packages of one closure install. */
export interface FileConflict {
  readonly path: string;
  /** `name-version` of each owner, in install order. */
  readonly packages: string[];
}

/** A closure package with its file list, when known. */
export interface PackageWithFiles {
  readonly name: string;
  readonly version: string;
  /** Source package (apk `o:`): packages built from one origin may share files. */
  readonly origin?: string;
  /** Names this package declares it replaces (apk `r:`): overwriting those is allowed. */
  readonly replaces?: readonly string[];
  /** Undefined when the catalog does not know the list. */
  readonly files: readonly string[] | undefined;
}

/**
 * Paths installed by more than one package, as apk would refuse them: a
 * package may overwrite a file of a package it `replaces` or of a package
 * built from the same origin (apk's `apk_pkg_replaces_file`), nothing else.
 * Packages with unknown file lists are left out. Sorted by path.
 */
export function findFileConflicts(packages: readonly PackageWithFiles[]): FileConflict[] {
  const owners = new Map<string, PackageWithFiles[]>();
  for (const pkg of packages) {
    for (const path of pkg.files ?? []) {
      const list = owners.get(path);
      if (list === undefined) owners.set(path, [pkg]);
      else list.push(pkg);
    }
  }
  const conflicts: FileConflict[] = [];
  for (const [path, list] of owners) {
    if (list.length < 2) continue;
    const clashing = list.filter((pkg) =>
      list.some((other) => other !== pkg && !mayShare(pkg, other)),
    );
    if (clashing.length < 2) continue;
    conflicts.push({ path, packages: clashing.map((pkg) => `${pkg.name}-${pkg.version}`) });
  }
  return conflicts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** apk lets these two packages install the same path. */
function mayShare(a: PackageWithFiles, b: PackageWithFiles): boolean {
  if (a.origin !== undefined && a.origin !== "" && a.origin === b.origin) return true;
  return (
    (a.replaces ?? []).some((name) => replacedName(name) === b.name) ||
    (b.replaces ?? []).some((name) => replacedName(name) === a.name)
  );
}

/** `name` of a replaces atom such as `busybox<1.36`. */
function replacedName(atom: string): string {
  return atom.split(/[<>=~]/, 1)[0] ?? atom;
}
