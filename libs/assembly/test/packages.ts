// Test packages: real ones built with libs/apk's writePackage, hostile ones
// from raw tar headers, and PackageSources over their bytes.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import {
  type PackageFile,
  type PackageMetadata,
  readPackage,
  readTar,
  type TarEntry,
  writePackage,
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

export type { RawTarEntry as RawEntry } from "@tailor/apk/testing";
export { rawTestPackage as rawPackage } from "@tailor/apk/testing";

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
