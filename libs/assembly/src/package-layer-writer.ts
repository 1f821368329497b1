/**
 * Writes one layer from the data of several packages (a merged layer) or of
 * one package that cannot be reused as is (entries left out). Streams each
 * package's data segment through gunzip and the tar reader into
 * @tailor/oci's deterministic layer writer.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { readTar } from "@tailor/apk";
import { type LayerEntry, writeLayer } from "@tailor/oci";
import { readByteRange } from "./byte-range.js";
import type { PackageFileInfo, PackageLayerInfo, WrittenLayerInfo } from "./layer-cache.js";
import { type PackageSource, packageLabel } from "./package-source.js";

/** Bumped whenever the bytes this writer produces for the same input change. */
const WRITER_VERSION = 1;

/** One package's part of a written layer. */
export interface LayerMember {
  readonly source: PackageSource;
  readonly info: PackageLayerInfo;
  /** Paths left out of this package's data. */
  readonly excluded: ReadonlySet<string>;
}

/** The cache key of a written layer: what goes into it, nothing else. */
export function writtenLayerKey(members: readonly LayerMember[], gzipLevel: number): string {
  const description = JSON.stringify({
    writer: WRITER_VERSION,
    gzipLevel,
    members: members.map((member) => [member.info.checksum, [...member.excluded].sort()]),
  });
  return `sha256:${createHash("sha256").update(description).digest("hex")}`;
}

/**
 * Writes the layer into memory (the blob's digest names it, so it is only
 * known at the end) and returns its bytes and digests. Directories several
 * members have are written once, where the first member has them, with the
 * owner and mode of the last one (what separate layers would leave).
 */
export async function writeMembersLayer(
  members: readonly LayerMember[],
  gzipLevel: number,
): Promise<{ bytes: Uint8Array; layer: WrittenLayerInfo }> {
  const directories = new Map<string, PackageFileInfo>();
  for (const member of members) {
    for (const file of member.info.files) {
      if (file.type === "directory" && !member.excluded.has(file.path)) {
        directories.set(file.path, file);
      }
    }
  }
  const chunks: Uint8Array[] = [];
  const written = await writeLayer(
    entriesOf(members, directories),
    (chunk) => {
      chunks.push(chunk);
    },
    { gzipLevel },
  );
  return {
    bytes: Buffer.concat(chunks),
    layer: { key: writtenLayerKey(members, gzipLevel), ...written },
  };
}

async function* entriesOf(
  members: readonly LayerMember[],
  directories: ReadonlyMap<string, PackageFileInfo>,
): AsyncGenerator<LayerEntry> {
  const written = new Set<string>();
  for (const { source, info, excluded } of members) {
    if (info.size === 0) continue;
    const label = packageLabel(source);
    const range = readByteRange(
      await source.open(),
      info.dataOffset,
      info.size,
      info.digest.slice("sha256:".length),
      `data of ${label}`,
    );
    const gunzip = createGunzip();
    const piping = pipeline(Readable.from(range), gunzip);
    // The tar reader sees pipeline failures through gunzip; this only keeps them from going unhandled.
    piping.catch(() => {});
    for await (const { entry, body } of readTar(gunzip, { location: { file: `${label}.apk` } })) {
      if (excluded.has(entry.path)) continue;
      const type = entry.type;
      if (type !== "file" && type !== "directory" && type !== "symlink" && type !== "hardlink") {
        continue; // inspection refused these already
      }
      if (type === "directory") {
        if (written.has(entry.path)) continue;
        written.add(entry.path);
      }
      const owner = type === "directory" ? (directories.get(entry.path) ?? entry) : entry;
      const out: LayerEntry = {
        path: entry.path,
        type,
        mode: owner.mode,
        uid: owner.uid,
        gid: owner.gid,
        mtime: new Date(Math.max(0, entry.mtime) * 1000),
      };
      if (entry.uname !== undefined && owner === entry) out.uname = entry.uname;
      if (entry.gname !== undefined && owner === entry) out.gname = entry.gname;
      if (entry.linkTarget !== undefined) out.linkname = entry.linkTarget;
      if (type === "file") {
        out.size = entry.size;
        out.data = body;
      }
      if (entry.xattrs !== undefined) {
        const pax: Record<string, string> = {};
        for (const [name, value] of Object.entries(entry.xattrs)) {
          pax[`SCHILY.xattr.${name}`] = Buffer.from(value, "latin1").toString("utf8");
        }
        out.pax = pax;
      }
      yield out;
    }
    await piping;
  }
}
