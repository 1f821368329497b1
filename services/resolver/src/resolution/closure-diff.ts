/** A package of a closure, as far as a diff cares. */
export interface DiffPackage {
  readonly name: string;
  readonly version: string;
  readonly installedSize: number;
}

/** One difference between two closures. */
export interface PackageChange {
  readonly name: string;
  /** "" when added. */
  readonly oldVersion: string;
  /** "" when removed. */
  readonly newVersion: string;
  readonly installedSizeDelta: number;
}

/** What changes from `before` to `after`, by package name (each list sorted by name). */
export interface ClosureDiff {
  readonly added: PackageChange[];
  readonly removed: PackageChange[];
  readonly changed: PackageChange[];
  readonly installedSizeDelta: number;
}

/** Compares two closures by package name. */
export function diffClosures(
  before: readonly DiffPackage[],
  after: readonly DiffPackage[],
): ClosureDiff {
  const old = new Map(before.map((pkg) => [pkg.name, pkg]));
  const next = new Map(after.map((pkg) => [pkg.name, pkg]));
  const added: PackageChange[] = [];
  const removed: PackageChange[] = [];
  const changed: PackageChange[] = [];
  for (const pkg of next.values()) {
    const was = old.get(pkg.name);
    if (was === undefined) {
      added.push({
        name: pkg.name,
        oldVersion: "",
        newVersion: pkg.version,
        installedSizeDelta: pkg.installedSize,
      });
    } else if (was.version !== pkg.version) {
      changed.push({
        name: pkg.name,
        oldVersion: was.version,
        newVersion: pkg.version,
        installedSizeDelta: pkg.installedSize - was.installedSize,
      });
    }
  }
  for (const pkg of old.values()) {
    if (!next.has(pkg.name)) {
      removed.push({
        name: pkg.name,
        oldVersion: pkg.version,
        newVersion: "",
        installedSizeDelta: -pkg.installedSize,
      });
    }
  }
  const byName = (a: PackageChange, b: PackageChange) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  const sum = (list: readonly DiffPackage[]) =>
    list.reduce((total, pkg) => total + pkg.installedSize, 0);
  return {
    added: added.sort(byName),
    removed: removed.sort(byName),
    changed: changed.sort(byName),
    installedSizeDelta: sum(after) - sum(before),
  };
}
