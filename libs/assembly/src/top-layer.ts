/**
 * The image's top layer: files Tailor generates rather than takes from a
 * package (the apk database and settings, accounts, os-release, the CA
 * bundle with customer certificates, the SBOM), plus account home
 * directories no package creates. Parent directories are written only when
 * no package has them, so a packaged symlink (`lib` → `usr/lib`) is
 * followed, never replaced.
 */
import type { LayerEntry } from "@tailor/oci";
import type { FileOwnership, LaidOutPackage } from "./file-ownership.js";

/** A file for the top layer. */
export interface GeneratedFile {
  /** Path without a leading `/`. */
  readonly path: string;
  /** Content. */
  readonly content: Uint8Array;
  /** Permission bits. @default 0o644 */
  readonly mode?: number;
}

/** A directory for the top layer (created only when no package has the path). */
export interface GeneratedDirectory {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** Paths of the generated files. */
export const GeneratedPath = {
  installedDb: "lib/apk/db/installed",
  world: "etc/apk/world",
  arch: "etc/apk/arch",
  repositories: "etc/apk/repositories",
  keys: "etc/apk/keys",
  osRelease: "etc/os-release",
  passwd: "etc/passwd",
  group: "etc/group",
  caBundle: "etc/ssl/certs/ca-certificates.crt",
  sbomDirectory: "var/lib/db/sbom",
} as const;

/**
 * The content a packaged path ends up with (following a symlink once,
 * relative or absolute), when assembly captured it during inspection.
 */
export function packagedContent(
  path: string,
  packages: readonly LaidOutPackage[],
  ownership: FileOwnership,
): string | undefined {
  let current = path;
  for (let hops = 0; hops < 4; hops++) {
    const owner = ownership.owners.get(current);
    if (owner === undefined) return undefined;
    if (owner.file.type === "symlink" && owner.file.linkTarget !== undefined) {
      current = resolveLink(current, owner.file.linkTarget);
      continue;
    }
    if (owner.file.type !== "file") return undefined;
    const captured = packages[owner.index]?.info.captured[current];
    return captured === undefined ? undefined : Buffer.from(captured, "base64").toString("utf8");
  }
  return undefined;
}

/** Whether any package has `path` (as anything). */
export function isPackaged(path: string, ownership: FileOwnership): boolean {
  return ownership.owners.has(path);
}

/**
 * The top layer's entries in path order: missing parents (root:root 0755),
 * the given directories no package has, and the files.
 */
export function topLayerEntries(
  files: readonly GeneratedFile[],
  directories: readonly GeneratedDirectory[],
  ownership: FileOwnership,
  mtime: Date,
): LayerEntry[] {
  const entries = new Map<string, LayerEntry>();
  const addParents = (path: string) => {
    for (let slash = path.indexOf("/"); slash >= 0; slash = path.indexOf("/", slash + 1)) {
      const parent = path.slice(0, slash);
      if (ownership.owners.has(parent) || entries.has(parent)) continue;
      entries.set(parent, { path: parent, type: "directory", mode: 0o755, uid: 0, gid: 0, mtime });
    }
  };
  for (const directory of directories) {
    if (ownership.owners.has(directory.path)) continue;
    addParents(directory.path);
    entries.set(directory.path, { ...directory, type: "directory", mtime });
  }
  for (const file of files) {
    addParents(file.path);
    entries.set(file.path, {
      path: file.path,
      type: "file",
      mode: file.mode ?? 0o644,
      uid: 0,
      gid: 0,
      uname: "root",
      gname: "root",
      mtime,
      data: file.content,
    });
  }
  return [...entries.values()].sort((a, b) => compareBytes(a.path, b.path));
}

function resolveLink(path: string, target: string): string {
  const parts = target.startsWith("/") ? [] : path.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
