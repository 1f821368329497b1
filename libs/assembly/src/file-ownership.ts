/**
 * Who owns each path of the image, decided the way apk-tools decides when it
 * installs packages in layer order: directories are shared; a file installed
 * twice is an error unless apk allows the overwrite (same origin, `replaces`,
 * identical content), and then the later package wins, which is what layer
 * order gives. Where apk keeps the earlier package's file (the earlier one
 * `replaces` the later) or keeps an earlier symlink where a later package
 * has a directory, the later package's entry is left out of its layer.
 */
import { parseAtom } from "@tailor/apk";
import { FileConflictError } from "./errors.js";
import type { PackageFileInfo, PackageLayerInfo } from "./layer-cache.js";
import { type PackageSource, packageLabel } from "./package-source.js";

/** A package in layer order with its inspection. */
export interface LaidOutPackage {
  readonly source: PackageSource;
  readonly info: PackageLayerInfo;
}

/** The final owner of a path. */
export interface PathOwner {
  /** Index of the package in layer order. */
  readonly index: number;
  /** The entry as that package has it. */
  readonly file: PackageFileInfo;
}

/** What {@link resolveFileOwnership} decided. */
export interface FileOwnership {
  /** Final owner of every path (for directories: the last package that has it). */
  readonly owners: ReadonlyMap<string, PathOwner>;
  /** Per package index: entries left out of its layer, each with the reason. */
  readonly excluded: ReadonlyMap<number, ReadonlyMap<string, string>>;
  /** Per package index: files a later package overwrote (dropped from its installed record). */
  readonly lost: ReadonlyMap<number, ReadonlySet<string>>;
  /** Per package index: earlier packages whose files it overwrote. */
  readonly overwrites: ReadonlyMap<number, ReadonlySet<number>>;
}

/**
 * Decides the owner of every path for `packages` in layer order.
 * @throws FileConflictError naming the path, both packages and why apk would refuse.
 */
export function resolveFileOwnership(packages: readonly LaidOutPackage[]): FileOwnership {
  const owners = new Map<string, PathOwner>();
  const excluded = new Map<number, Map<string, string>>();
  const lost = new Map<number, Set<string>>();
  const overwrites = new Map<number, Set<number>>();
  const addTo = <V>(map: Map<number, V>, index: number, make: () => V): V => {
    let value = map.get(index);
    if (value === undefined) {
      value = make();
      map.set(index, value);
    }
    return value;
  };
  const replacesNames = packages.map(({ source, info }) =>
    replacedNames(source.replaces ?? info.installed?.replaces ?? []),
  );

  packages.forEach(({ source, info }, index) => {
    const label = packageLabel(source);
    const exclude = (path: string, reason: string) =>
      addTo(excluded, index, () => new Map<string, string>()).set(path, reason);
    for (const file of info.files) {
      checkParents(file.path, owners, packages, label);
      const previous = owners.get(file.path);
      if (previous === undefined || previous.index === index) {
        owners.set(file.path, { index, file });
        continue;
      }
      const other = packages[previous.index] as LaidOutPackage;
      const otherLabel = packageLabel(other.source);
      const pair: [string, string] = [otherLabel, label];
      if (file.type === "directory") {
        if (previous.file.type === "directory") {
          owners.set(file.path, { index, file });
        } else if (previous.file.type === "symlink") {
          // apk creates files through the symlink; a directory entry in a
          // layer would replace the symlink instead.
          exclude(file.path, `${otherLabel} makes it a symlink, which apk keeps`);
        } else {
          throw new FileConflictError(file.path, pair, `a directory over a ${previous.file.type}`);
        }
        continue;
      }
      if (previous.file.type === "directory") {
        throw new FileConflictError(
          file.path,
          pair,
          `a ${file.type} over a directory (the layer would delete the directory's contents)`,
        );
      }
      const verdict = overwriteVerdict(
        other,
        replacesNames[previous.index] ?? new Set(),
        { source, info },
        replacesNames[index] ?? new Set(),
        previous.file,
        file,
      );
      if (verdict === "conflict") {
        throw new FileConflictError(
          file.path,
          pair,
          "their contents differ, neither package replaces the other and their origins differ",
        );
      }
      if (verdict === "keep-earlier") {
        exclude(file.path, `${otherLabel} replaces ${source.name}, so apk keeps its file`);
        addTo(lost, index, () => new Set<string>()).add(file.path);
        continue;
      }
      addTo(lost, previous.index, () => new Set<string>()).add(file.path);
      addTo(overwrites, index, () => new Set<number>()).add(previous.index);
      owners.set(file.path, { index, file });
    }
    // A hard link whose target was left out would point at nothing in the layer.
    const left = excluded.get(index);
    if (left !== undefined) {
      for (const file of info.files) {
        if (
          file.type === "hardlink" &&
          file.linkTarget !== undefined &&
          left.has(file.linkTarget)
        ) {
          exclude(
            file.path,
            `its hard link target ${file.linkTarget} is kept from another package`,
          );
          addTo(lost, index, () => new Set<string>()).add(file.path);
        }
      }
    }
  });
  return { owners, excluded, lost, overwrites };
}

/**
 * apk-tools' order of exceptions: same origin, the earlier package replaces
 * the later (keep the earlier file), the later replaces the earlier,
 * identical content.
 */
function overwriteVerdict(
  earlier: LaidOutPackage,
  earlierReplaces: ReadonlySet<string>,
  later: LaidOutPackage,
  laterReplaces: ReadonlySet<string>,
  earlierFile: PackageFileInfo,
  laterFile: PackageFileInfo,
): "overwrite" | "keep-earlier" | "conflict" {
  const earlierOrigin = earlier.source.origin;
  if (
    earlierOrigin !== undefined &&
    earlierOrigin !== "" &&
    earlierOrigin === later.source.origin
  ) {
    return "overwrite";
  }
  if (earlierReplaces.has(later.source.name)) return "keep-earlier";
  if (laterReplaces.has(earlier.source.name)) return "overwrite";
  if (sameContent(earlierFile, laterFile)) return "overwrite";
  return "conflict";
}

function sameContent(a: PackageFileInfo, b: PackageFileInfo): boolean {
  if (a.type === "symlink" || b.type === "symlink") {
    return a.type === b.type && a.linkTarget === b.linkTarget;
  }
  return a.sha1 !== undefined && a.sha1 === b.sha1;
}

function replacedNames(atoms: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const atom of atoms) {
    try {
      names.add(parseAtom(atom).name);
    } catch {
      names.add(atom);
    }
  }
  return names;
}

/** A path whose parent another package made a file would not extract. */
function checkParents(
  path: string,
  owners: ReadonlyMap<string, PathOwner>,
  packages: readonly LaidOutPackage[],
  label: string,
): void {
  for (let slash = path.indexOf("/"); slash >= 0; slash = path.indexOf("/", slash + 1)) {
    const parent = owners.get(path.slice(0, slash));
    if (parent === undefined) continue;
    const kind = parent.file.type;
    if (kind === "directory" || kind === "symlink") continue;
    const other = packageLabel((packages[parent.index] as LaidOutPackage).source);
    throw new FileConflictError(path, [other, label], `${other} installs its parent as a ${kind}`);
  }
}
