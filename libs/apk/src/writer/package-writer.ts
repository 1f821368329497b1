/**
 * Builds APK v2 packages the way abuild lays them out: a data gzip member
 * (sorted tar with PAX SHA-1 records, directories included), a cut control
 * member holding `.PKGINFO` (with size and datahash of the data member) and
 * the install scripts, and optionally a signature member over the control
 * member, first in the file. Everything is deterministic: the same input
 * gives the same bytes.
 */
import { createHash } from "node:crypto";
import { PackageFormatError } from "../errors.js";
import type { PkgInfo } from "../pkginfo/pkginfo.js";
import { formatPkgInfo } from "../pkginfo/pkginfo.js";
import type { ApkSigner } from "../signature/signer.js";
import { createSignatureMember } from "../signature/signer.js";
import type { TarWriterEntry } from "../tar/tar-writer.js";
import { normalizeArchivePath, writeTar } from "../tar/tar-writer.js";
import { parseAtom, parseProvide } from "../version/atom.js";
import { assertValidVersion } from "../version/version.js";
import { gzipDeterministic } from "./deterministic-gzip.js";

/** Package metadata, written to `.PKGINFO` (size and datahash are computed). */
export interface PackageMetadata {
  /** `pkgname`. */
  readonly name: string;
  /** `pkgver`, a valid apk version such as `1.2.3-r0`. */
  readonly version: string;
  /** `arch`, e.g. `x86_64`, `aarch64` or `noarch`. */
  readonly arch: string;
  /** `pkgdesc`. */
  readonly description?: string;
  /** `url`. */
  readonly url?: string;
  /** `license`. */
  readonly license?: string;
  /** `origin`: the source package. */
  readonly origin?: string;
  /** `maintainer`. */
  readonly maintainer?: string;
  /** `depend` atoms (`so:libc.musl-x86_64.so.1`, `busybox>=1.36`, `!conflict`). */
  readonly depends?: readonly string[];
  /** `provides` (`cmd:foo=1.2.3-r0`, `so:libfoo.so.1=1`). */
  readonly provides?: readonly string[];
  /** `replaces`: packages whose files this one may overwrite. */
  readonly replaces?: readonly string[];
  /** `replaces_priority`. */
  readonly replacesPriority?: number;
  /** `install_if` atoms. */
  readonly installIf?: readonly string[];
  /** `provider_priority`. */
  readonly providerPriority?: number;
  /** `triggers`: directories whose changes run the `.trigger` script. */
  readonly triggers?: readonly string[];
  /** `builddate`, seconds since the epoch. @default the writer's `mtime` */
  readonly builddate?: number;
  /** `packager`. */
  readonly packager?: string;
  /** `commit` of the build recipe. */
  readonly commit?: string;
}

/** Kind of a package file. */
export type PackageFileType = "file" | "directory" | "symlink" | "hardlink";

/** One file system object of the package's data. */
export interface PackageFile {
  /** Path in the installed system (`/usr/bin/foo` or `usr/bin/foo`). */
  readonly path: string;
  /** What it is. */
  readonly type: PackageFileType;
  /** Permission bits. @default 0o644 for files and hard links, 0o755 for directories, 0o777 for symlinks */
  readonly mode?: number;
  /** Owner. @default 0 */
  readonly uid?: number;
  /** Group. @default 0 */
  readonly gid?: number;
  /**
   * Owner name; apk resolves it against the target's `/etc/passwd` before the
   * numeric id. @default "root" for uid 0, otherwise "" (numeric id only)
   */
  readonly uname?: string;
  /** Group name, resolved like `uname`. @default "root" for gid 0, otherwise "" */
  readonly gname?: string;
  /** Modification time. @default the writer's `mtime` */
  readonly mtime?: number;
  /** Content of a regular file. */
  readonly content?: Uint8Array;
  /** Symlink target (as is), or the package path a hard link points to. */
  readonly linkTarget?: string;
}

/** Names of the install scripts apk runs. */
export type PackageScriptName =
  | ".pre-install"
  | ".post-install"
  | ".pre-upgrade"
  | ".post-upgrade"
  | ".pre-deinstall"
  | ".post-deinstall"
  | ".trigger";

/** An install script, stored in the control stream. */
export interface PackageScript {
  /** Which script. */
  readonly name: PackageScriptName;
  /** Its text (UTF-8) or bytes. */
  readonly content: string | Uint8Array;
}

/** Input of {@link writePackage}. */
export interface WritePackageOptions {
  /** Package metadata. */
  readonly pkginfo: PackageMetadata;
  /** The data: files, directories and links. Missing parent directories are added (root:root 0755). */
  readonly files: Iterable<PackageFile>;
  /** Install scripts, written in the given order after `.PKGINFO`. */
  readonly scripts?: readonly PackageScript[];
  /**
   * Time of every entry without its own mtime, of the control stream, and the
   * default `builddate`: pass `SOURCE_DATE_EPOCH` for reproducible output. @default 0
   */
  readonly mtime?: number;
  /** Sign the control stream (one `.SIGN.*` entry per signer). */
  readonly signer?: ApkSigner | readonly ApkSigner[];
  /** gzip level of every member. @default 9 */
  readonly gzipLevel?: number;
}

const SCRIPT_NAMES: ReadonlySet<string> = new Set<PackageScriptName>([
  ".pre-install",
  ".post-install",
  ".pre-upgrade",
  ".post-upgrade",
  ".pre-deinstall",
  ".post-deinstall",
  ".trigger",
]);

const DEFAULT_MODES: Record<PackageFileType, number> = {
  file: 0o644,
  hardlink: 0o644,
  directory: 0o755,
  symlink: 0o777,
};

/**
 * Writes an APK v2 package: `[signature] control data`, as abuild does.
 * `.PKGINFO` gets `size` (the sum of regular file sizes; abuild reports
 * `du`'s block-rounded figure instead) and `datahash` (SHA-256 of the data
 * member). The data tar is sorted by path and carries apk's per-file SHA-1
 * PAX records, so apk can record file checksums in its database.
 *
 * @throws PackageFormatError for duplicate paths, a hard link to a missing
 *   file, a path that is both a directory and something else, unknown or
 *   repeated scripts, or triggers without a `.trigger` script (and back).
 * @throws VersionError / AtomError for an invalid version or atom.
 * @throws UnsafeEntryError for a path climbing out with `..`.
 * @throws SignatureError when a signer's key cannot sign.
 */
export async function writePackage(options: WritePackageOptions): Promise<Uint8Array> {
  const mtime = options.mtime ?? 0;
  const level = options.gzipLevel ?? 9;
  const meta = options.pkginfo;
  validateMetadata(meta);

  const { entries, installedSize } = dataEntries(
    options.files,
    mtime,
    `${meta.name}-${meta.version}`,
  );
  const dataMember = gzipDeterministic(
    writeTar(entries, {
      style: "posix",
      checksums: true,
      zeroTimes: true,
      recordSize: 10240,
    }),
    level,
  );
  const datahash = createHash("sha256").update(dataMember).digest("hex");

  const scripts = options.scripts ?? [];
  validateScripts(scripts, meta);
  const pkginfo: PkgInfo = {
    pkgname: meta.name,
    pkgver: meta.version,
    ...optional("pkgdesc", meta.description),
    ...optional("url", meta.url),
    builddate: meta.builddate ?? mtime,
    ...optional("packager", meta.packager),
    size: installedSize,
    arch: meta.arch,
    ...optional("origin", meta.origin),
    ...optional("commit", meta.commit),
    ...optional("maintainer", meta.maintainer),
    ...optional("license", meta.license),
    depend: [...(meta.depends ?? [])],
    provides: [...(meta.provides ?? [])],
    replaces: [...(meta.replaces ?? [])],
    ...optional("replacesPriority", meta.replacesPriority),
    installIf: [...(meta.installIf ?? [])],
    ...optional("providerPriority", meta.providerPriority),
    triggers: [...(meta.triggers ?? [])],
    datahash,
    fields: [],
  };
  const control: TarWriterEntry[] = [
    { path: ".PKGINFO", type: "file", mode: 0o644, mtime, content: utf8(formatPkgInfo(pkginfo)) },
    ...scripts.map((script) => ({
      path: script.name,
      type: "file" as const,
      mode: 0o755,
      mtime,
      content: typeof script.content === "string" ? utf8(script.content) : script.content,
    })),
  ];
  // apk reads the control stream as the head of one tar: no end blocks.
  const controlMember = gzipDeterministic(
    writeTar(control, { style: "posix", zeroTimes: true, cut: true }),
    level,
  );

  const parts: Uint8Array[] = [];
  if (options.signer !== undefined) {
    parts.push(createSignatureMember(controlMember, options.signer, { mtime, gzipLevel: level }));
  }
  parts.push(controlMember, dataMember);
  return new Uint8Array(Buffer.concat(parts));
}

/** A file tree the caller can list and read, e.g. a directory on disk behind the CLI. */
export interface PackageFileTree {
  /** Every object of the tree, with paths relative to its root. */
  list(): AsyncIterable<{
    readonly path: string;
    readonly type: PackageFileType;
    readonly mode: number;
    readonly size: number;
    readonly linkTarget?: string;
    readonly uid?: number;
    readonly gid?: number;
    readonly uname?: string;
    readonly gname?: string;
    readonly mtime?: number;
  }>;
  /** Content of a regular file listed by `list()`. */
  read(path: string): Promise<Uint8Array>;
}

/**
 * Collects a tree's objects as {@link PackageFile}s for {@link writePackage},
 * reading each regular file's content.
 * @throws PackageFormatError when a file's content does not have the listed
 *   size (it changed while being read).
 */
export async function filesFromTree(tree: PackageFileTree): Promise<PackageFile[]> {
  const files: PackageFile[] = [];
  for await (const item of tree.list()) {
    const base = {
      path: item.path,
      type: item.type,
      mode: item.mode,
      ...optional("uid", item.uid),
      ...optional("gid", item.gid),
      ...optional("uname", item.uname),
      ...optional("gname", item.gname),
      ...optional("mtime", item.mtime),
    };
    if (item.type === "file") {
      const content = await tree.read(item.path);
      if (content.length !== item.size) {
        throw new PackageFormatError(
          `listed with ${item.size} bytes but read ${content.length}: did it change?`,
          { entry: item.path },
        );
      }
      files.push({ ...base, content });
    } else {
      files.push({ ...base, ...optional("linkTarget", item.linkTarget) });
    }
  }
  return files;
}

function dataEntries(
  files: Iterable<PackageFile>,
  mtime: number,
  label: string,
): { entries: TarWriterEntry[]; installedSize: number } {
  const byPath = new Map<string, TarWriterEntry>();
  for (const file of files) {
    const path = normalizeArchivePath(file.path);
    if (byPath.has(path)) {
      throw new PackageFormatError(`${label}: path given twice`, { entry: path });
    }
    if (file.type !== "file" && file.content !== undefined && file.content.length > 0) {
      throw new PackageFormatError(`${label}: a ${file.type} cannot have content`, { entry: path });
    }
    const uid = file.uid ?? 0;
    const gid = file.gid ?? 0;
    byPath.set(path, {
      path,
      type: file.type,
      mode: file.mode ?? DEFAULT_MODES[file.type],
      uid,
      gid,
      uname: file.uname ?? (uid === 0 ? "root" : ""),
      gname: file.gname ?? (gid === 0 ? "root" : ""),
      mtime: file.mtime ?? mtime,
      ...(file.type === "file" ? { content: file.content ?? new Uint8Array(0) } : {}),
      ...(file.linkTarget !== undefined ? { linkTarget: file.linkTarget } : {}),
    });
  }

  // apk needs every parent directory in the archive to own it in its database.
  for (const path of [...byPath.keys()]) {
    const parts = path.split("/");
    for (let depth = 1; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join("/");
      const existing = byPath.get(parent);
      if (existing === undefined) {
        byPath.set(parent, { path: parent, type: "directory", mode: 0o755, mtime });
      } else if (existing.type !== "directory") {
        throw new PackageFormatError(
          `${label}: "${parent}" is a ${existing.type} but holds files`,
          {
            entry: path,
          },
        );
      }
    }
  }

  const sorted = [...byPath.values()].sort((a, b) =>
    Buffer.compare(Buffer.from(a.path, "utf8"), Buffer.from(b.path, "utf8")),
  );
  const entries = orderHardLinks(sorted, byPath, label);
  let installedSize = 0;
  for (const entry of entries) {
    if (entry.type === "file") installedSize += entry.content?.length ?? 0;
  }
  return { entries, installedSize };
}

/**
 * A hard link must come after the file it links to, or apk cannot create
 * it. When the link sorts first, the two swap roles: the first path carries
 * the content, the later one links to it (both name the same inode anyway).
 */
function orderHardLinks(
  sorted: TarWriterEntry[],
  byPath: Map<string, TarWriterEntry>,
  label: string,
): TarWriterEntry[] {
  const resolveFile = (entry: TarWriterEntry): TarWriterEntry => {
    let current = entry;
    for (let hops = 0; current.type === "hardlink"; hops++) {
      const target = normalizeArchivePath(current.linkTarget ?? "", "hard link target");
      const next = byPath.get(target);
      if (next === undefined || hops > byPath.size) {
        throw new PackageFormatError(
          `${label}: hard link to "${target}", which is not a file in the package`,
          {
            entry: entry.path,
          },
        );
      }
      current = next;
    }
    if (current.type !== "file") {
      throw new PackageFormatError(`${label}: hard link to a ${current.type}`, {
        entry: entry.path,
      });
    }
    return current;
  };

  const written = new Map<TarWriterEntry, string>();
  return sorted.map((entry) => {
    if (entry.type !== "hardlink" && entry.type !== "file") return entry;
    const file = resolveFile(entry);
    const first = written.get(file);
    if (first === undefined) {
      written.set(file, entry.path);
      return entry === file ? entry : { ...file, path: entry.path };
    }
    return {
      path: entry.path,
      type: "hardlink" as const,
      mode: file.mode,
      ...optional("uid", file.uid),
      ...optional("gid", file.gid),
      ...optional("uname", file.uname),
      ...optional("gname", file.gname),
      ...optional("mtime", file.mtime),
      linkTarget: first,
    };
  });
}

function validateMetadata(meta: PackageMetadata): void {
  const label = `${meta.name}-${meta.version}`;
  assertValidVersion(meta.version, { entry: label, field: "pkgver" });
  if (meta.arch === "" || /\s/.test(meta.arch)) {
    throw new PackageFormatError(`arch "${meta.arch}" is empty or holds white space`, {
      entry: label,
      field: "arch",
    });
  }
  for (const atom of meta.depends ?? []) parseAtom(atom, { entry: label, field: "depend" });
  for (const atom of meta.installIf ?? []) parseAtom(atom, { entry: label, field: "install_if" });
  for (const atom of meta.replaces ?? []) parseAtom(atom, { entry: label, field: "replaces" });
  for (const provide of meta.provides ?? [])
    parseProvide(provide, { entry: label, field: "provides" });
}

function validateScripts(scripts: readonly PackageScript[], meta: PackageMetadata): void {
  const label = `${meta.name}-${meta.version}`;
  const seen = new Set<string>();
  for (const script of scripts) {
    if (!SCRIPT_NAMES.has(script.name)) {
      throw new PackageFormatError(`"${script.name}" is not an apk install script`, {
        entry: label,
      });
    }
    if (seen.has(script.name)) {
      throw new PackageFormatError(`script ${script.name} given twice`, { entry: label });
    }
    seen.add(script.name);
  }
  const hasTriggers = (meta.triggers ?? []).length > 0;
  if (hasTriggers !== seen.has(".trigger")) {
    // apk runs .trigger only for the listed directories; one without the other is a mistake.
    throw new PackageFormatError(
      hasTriggers
        ? "triggers are set but there is no .trigger script"
        : ".trigger script without triggers",
      { entry: label, field: "triggers" },
    );
  }
}

/** `{ [key]: value }` when value is defined, `{}` otherwise (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "utf8"));
}
