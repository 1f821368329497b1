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
  /** Names this package declares it replaces (apk `r:`): overwriting those is allowed. */
  readonly replaces?: readonly string[];
  /** Undefined when the catalog does not know the list. */
  readonly files: readonly string[] | undefined;
}

/**
 * Paths installed by more than one package, as apk would refuse them: a
 * package may overwrite a file of a package it `replaces`, nothing else.
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
    const clashing = list.filter(
      (pkg) =>
        !list.some(
          (other) =>
            (other !== pkg &&
              (other.replaces ?? []).some((name) => replacedName(name) === pkg.name)) ||
            (pkg.replaces ?? []).some((name) => replacedName(name) === other.name && other !== pkg),
        ),
    );
    if (clashing.length < 2) continue;
    conflicts.push({ path, packages: clashing.map((pkg) => `${pkg.name}-${pkg.version}`) });
  }
  return conflicts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `name` of a replaces atom such as `busybox<1.36`. */
function replacedName(atom: string): string {
  return atom.split(/[<>=~]/, 1)[0] ?? atom;
}
