// Test packages: real ones built with libs/apk's writePackage, hostile ones
// from raw tar headers, and PackageSources over their bytes.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import {
  formatPkgInfo,
  gzipDeterministic,
  type PackageFile,
  type PackageMetadata,
  readPackage,
  readTar,
  type TarEntry,
  writePackage,
  writeTar,
} from "@tailor/apk";
import type { PackageSource } from "../src/index.js";

/** A `PackageSource` over `bytes`, counting how often it was opened. */
export async function sourceOf(
  bytes: Uint8Array,
  options: { pinned?: boolean; streamed?: boolean; checksum?: string; name?: string } = {},
): Promise<PackageSource & { opened: number }> {
  const pkg = await readPackage(bytes, { verifyDatahash: false }).catch(() => undefined);
  const info = pkg?.pkginfo;
  const source = {
    name: options.name ?? info?.pkgname ?? "unknown",
    version: info?.pkgver ?? "1.0-r0",
    arch: info?.arch ?? "x86_64",
    checksum: options.checksum ?? pkg?.checksum ?? "Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    repository: "https://packages.example/test",
    installedSize: pkg?.installedSize ?? 0,
    pinned: options.pinned ?? false,
    opened: 0,
    async open(): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
      source.opened++;
      if (options.streamed !== true) return bytes;
      return (async function* () {
        for (let at = 0; at < bytes.length; at += 4096) yield bytes.subarray(at, at + 4096);
      })();
    },
  } satisfies PackageSource & { opened: number };
  if (info?.origin !== undefined) Object.assign(source, { origin: info.origin });
  if (info?.license !== undefined) Object.assign(source, { license: info.license });
  if (info?.replaces !== undefined && info.replaces.length > 0) {
    Object.assign(source, { replaces: info.replaces });
  }
  return source;
}

const text = (content: string) => new TextEncoder().encode(content);

/** A package built by writePackage with `files` ({path: content} or full PackageFiles). */
export async function buildPackage(
  name: string,
  options: {
    version?: string;
    arch?: string;
    files?: Record<string, string> | PackageFile[];
    origin?: string;
    replaces?: string[];
    builddate?: number;
    license?: string;
  } = {},
): Promise<Uint8Array> {
  const files = Array.isArray(options.files)
    ? options.files
    : Object.entries(options.files ?? { [`usr/share/${name}/README`]: `${name}\n` }).map(
        ([path, content]): PackageFile => ({ path, type: "file", content: text(content) }),
      );
  const pkginfo: PackageMetadata = {
    name,
    version: options.version ?? "1.0-r0",
    arch: options.arch ?? "x86_64",
    license: options.license ?? "MIT",
    description: `the ${name} package`,
    builddate: options.builddate ?? 1_700_000_000,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.replaces === undefined ? {} : { replaces: options.replaces }),
  };
  return writePackage({ pkginfo, files, mtime: 1_700_000_000 });
}

/** A raw tar entry: any name, any type flag (for hostile packages). */
export interface RawEntry {
  name: string;
  /** Tar type flag: "0" file, "1" hard link, "2" symlink, "3" char device, "5" directory, "6" FIFO. */
  type: string;
  content?: Uint8Array;
  linkname?: string;
  mode?: number;
}

/** A ustar archive of `entries` with end blocks, written byte by byte. */
export function rawTar(entries: readonly RawEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    const header = new Uint8Array(512);
    const put = (value: string, offset: number, length: number) =>
      header.set(Buffer.from(value, "utf8").subarray(0, length), offset);
    const octal = (value: number, offset: number, length: number) =>
      put(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
    const content = entry.content ?? new Uint8Array(0);
    put(entry.name, 0, 100);
    octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(content.length, 124, 12);
    octal(1_700_000_000, 136, 12);
    put("        ", 148, 8);
    put(entry.type, 156, 1);
    put(entry.linkname ?? "", 157, 100);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    put("root", 265, 32);
    put("root", 297, 32);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
    blocks.push(header);
    if (content.length > 0) {
      const padded = new Uint8Array(Math.ceil(content.length / 512) * 512);
      padded.set(content);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

/** An unsigned package whose data tar is `entries` as given (no checks on the writing side), with its checksum. */
export function rawPackage(
  name: string,
  entries: readonly RawEntry[],
): { bytes: Uint8Array; checksum: string } {
  const data = gzipDeterministic(rawTar(entries), 6);
  const pkginfo = formatPkgInfo({
    pkgname: name,
    pkgver: "1.0-r0",
    arch: "x86_64",
    size: 1,
    builddate: 1_700_000_000,
    license: "MIT",
    depend: [],
    provides: [],
    replaces: [],
    installIf: [],
    triggers: [],
    datahash: createHash("sha256").update(data).digest("hex"),
    fields: [],
  });
  const control = gzipDeterministic(
    writeTar([{ path: ".PKGINFO", type: "file", mode: 0o644, content: text(pkginfo) }], {
      cut: true,
    }),
    6,
  );
  const checksum = `Q1${createHash("sha1").update(control).digest("base64")}`;
  return { bytes: Buffer.concat([control, data]), checksum };
}

/** The entries (with contents) of a gzip'd tar layer, checking it is one valid stream. */
export async function layerEntries(
  blob: Uint8Array,
): Promise<{ entry: TarEntry; content: Buffer }[]> {
  const tar = zlib.gunzipSync(blob);
  const out: { entry: TarEntry; content: Buffer }[] = [];
  for await (const { entry, body } of readTar(tar, { allowSpecialFiles: true })) {
    const parts: Uint8Array[] = [];
    for await (const chunk of body) parts.push(chunk);
    out.push({ entry, content: Buffer.concat(parts) });
  }
  return out;
}

/** `sha256:<hex>` of `bytes`. */
export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
