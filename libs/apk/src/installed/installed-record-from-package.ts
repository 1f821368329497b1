/**
 * The installed-database record apk-tools writes after installing a package.
 */
import { createHash } from "node:crypto";
import { canonicalAtoms, indexEntryFromPackage } from "../index/index-entry-from-package.js";
import type { ApkPackage, PackageEntry } from "../package/package-reader.js";
import type { InstalledAcl, InstalledFile, InstalledRecord } from "./installed-db.js";
import { DEFAULT_DIRECTORY_ACL } from "./installed-db.js";

interface DirectoryBuilder {
  path: string;
  acl: InstalledAcl;
  files: InstalledFile[];
}

/**
 * The record apk-tools 2 adds to `/lib/apk/db/installed` for `pkg`: the index
 * fields (`S:` is the package file's size), `r:`/`q:` from `.PKGINFO`, then
 * each directory in the order the data tar first mentions it, with the files
 * directly inside it. A directory the tar does not list itself gets
 * root:root 0755, as apk creates it. Owners are the tar's numeric ids (apk
 * would first map `uname`/`gname` through the target's passwd and group
 * files). `Z:` is the file's SHA-1 from its PAX record (a symlink's is the
 * SHA-1 of its target, a hard link's that of the file it links to); a file
 * without one gets no `Z:` here, where apk would hash the content.
 * @throws AtomError when a dependency, provide or replaces atom does not parse.
 */
export function installedRecordFromPackage(pkg: ApkPackage): InstalledRecord {
  const fileSize = pkg.segments.data.offset + pkg.segments.data.length;
  const entry = indexEntryFromPackage(pkg, fileSize);
  const info = pkg.pkginfo;

  const directories: DirectoryBuilder[] = [];
  const byPath = new Map<string, DirectoryBuilder>();
  const directory = (path: string): DirectoryBuilder => {
    let found = byPath.get(path);
    if (found === undefined) {
      found = { path, acl: DEFAULT_DIRECTORY_ACL, files: [] };
      byPath.set(path, found);
      directories.push(found);
    }
    return found;
  };

  const checksums = new Map<string, string>();
  for (const item of pkg.entries) {
    if (item.type === "directory") {
      directory(item.path).acl = aclOf(item);
      continue;
    }
    const slash = item.path.lastIndexOf("/");
    const parent = directory(slash < 0 ? "" : item.path.slice(0, slash));
    const checksum = fileChecksum(item, checksums);
    if (checksum !== undefined) checksums.set(item.path, checksum);
    parent.files.push({
      name: item.path.slice(slash + 1),
      acl: aclOf(item),
      ...(checksum === undefined ? {} : { checksum }),
    });
  }

  return {
    ...entry,
    replaces: canonicalAtoms(info.replaces, {
      entry: `${info.pkgname}-${info.pkgver}`,
      field: "replaces",
    }),
    ...(info.replacesPriority !== undefined && info.replacesPriority !== 0
      ? { replacesPriority: info.replacesPriority }
      : {}),
    tags: [],
    directories,
  };
}

function fileChecksum(item: PackageEntry, known: ReadonlyMap<string, string>): string | undefined {
  if (item.type === "hardlink") {
    return item.linkTarget === undefined ? undefined : known.get(item.linkTarget);
  }
  if (item.checksum !== undefined && /^[0-9a-f]{40}$/i.test(item.checksum)) {
    return `Q1${Buffer.from(item.checksum, "hex").toString("base64")}`;
  }
  // apk hashes a symlink's target itself when the package carries no digest.
  if (item.type === "symlink" && item.linkTarget !== undefined) {
    return `Q1${createHash("sha1").update(item.linkTarget, "utf8").digest("base64")}`;
  }
  return undefined;
}

function aclOf(item: PackageEntry): InstalledAcl {
  const acl = { uid: item.uid, gid: item.gid, mode: item.mode & 0o7777 };
  const digest = xattrDigest(item.xattrs);
  return digest === undefined ? acl : { ...acl, xattrChecksum: digest };
}

/**
 * apk's digest of a path's extended attributes: SHA-1 over the attributes
 * sorted by name, each name and value preceded by its big-endian 32-bit length.
 */
function xattrDigest(xattrs: Readonly<Record<string, string>> | undefined): string | undefined {
  if (xattrs === undefined) return undefined;
  const names = Object.keys(xattrs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (names.length === 0) return undefined;
  const hash = createHash("sha1");
  const withLength = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of names) {
    withLength(Buffer.from(name, "utf8"));
    withLength(Buffer.from(xattrs[name] ?? "", "latin1"));
  }
  return `Q1${hash.digest("base64")}`;
}
