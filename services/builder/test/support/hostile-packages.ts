// Hostile packages for the builder's tests: data tars with entries apk and
// the OCI layer stack must never see (`..` paths, device nodes, whiteouts),
// signed like real packages, served from an upstream repository directory
// whose signed APKINDEX lists them. Raw tar headers are written byte by byte
// because libs/apk's writer refuses such entries.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApkSigner, IndexEntry } from "@tailor/apk";
import {
  createSignatureMember,
  formatPkgInfo,
  gzipDeterministic,
  writeApkIndexArchive,
  writeTar,
} from "@tailor/apk";

/** A raw tar entry: any name, any type flag. */
export interface RawEntry {
  readonly name: string;
  /** Tar type flag: "0" file, "2" symlink, "3" char device, "5" directory, "6" FIFO. */
  readonly type: string;
  readonly content?: Uint8Array;
  readonly linkname?: string;
}

/** A signed package with its APKINDEX entry. */
export interface RawPackage {
  readonly bytes: Uint8Array;
  readonly entry: IndexEntry;
}

function rawTar(entries: readonly RawEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    const header = new Uint8Array(512);
    const put = (value: string, offset: number, length: number) =>
      header.set(Buffer.from(value, "utf8").subarray(0, length), offset);
    const octal = (value: number, offset: number, length: number) =>
      put(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
    const content = entry.content ?? new Uint8Array(0);
    put(entry.name, 0, 100);
    octal(entry.type === "5" ? 0o755 : 0o644, 100, 8);
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

/** A signed x86_64 package `name-1.0-r0` whose data tar is exactly `entries`. */
export function rawPackage(
  name: string,
  entries: readonly RawEntry[],
  signer: ApkSigner,
): RawPackage {
  const data = gzipDeterministic(rawTar(entries), 6);
  const pkginfo = formatPkgInfo({
    pkgname: name,
    pkgver: "1.0-r0",
    pkgdesc: `${name} (hostile)`,
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
    writeTar(
      [
        {
          path: ".PKGINFO",
          type: "file",
          mode: 0o644,
          content: new TextEncoder().encode(pkginfo),
        },
      ],
      { cut: true },
    ),
    6,
  );
  const signature = createSignatureMember(control, signer);
  const bytes = Buffer.concat([signature, control, data]);
  return {
    bytes,
    entry: {
      checksum: `Q1${createHash("sha1").update(control).digest("base64")}`,
      name,
      version: "1.0-r0",
      arch: "x86_64",
      size: bytes.byteLength,
      installedSize: 1,
      description: `${name} (hostile)`,
      url: "",
      license: "MIT",
      buildTime: 1_700_000_000,
      depends: [],
      provides: [],
      installIf: [],
    },
  };
}

/** Writes `<dir>/x86_64/<name>-<version>.apk` per package and a signed APKINDEX listing them. */
export async function writeUpstreamRepository(
  dir: string,
  packages: readonly RawPackage[],
  signer: ApkSigner,
): Promise<void> {
  const archDir = join(dir, "x86_64");
  await mkdir(archDir, { recursive: true });
  for (const { bytes, entry } of packages) {
    await writeFile(join(archDir, `${entry.name}-${entry.version}.apk`), bytes);
  }
  const index = await writeApkIndexArchive({
    entries: packages.map((pkg) => pkg.entry),
    signer,
    description: "hostile-upstream",
  });
  await writeFile(join(archDir, "APKINDEX.tar.gz"), index);
}
