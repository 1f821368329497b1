import { createHash } from "node:crypto";
import { formatPkgInfo } from "../pkginfo/pkginfo.js";
import type { ApkSigner } from "../signature/signer.js";
import { createSignatureMember } from "../signature/signer.js";
import { writeTar } from "../tar/tar-writer.js";
import { gzipDeterministic } from "../writer/deterministic-gzip.js";

/** A raw tar entry: any name, any type flag (for hostile packages the writer refuses). */
export interface RawTarEntry {
  readonly name: string;
  /** Tar type flag: "0" file, "1" hard link, "2" symlink, "3" char device, "5" directory, "6" FIFO. */
  readonly type: string;
  readonly content?: Uint8Array;
  readonly linkname?: string;
  /** @default 0o755 for directories, 0o644 otherwise */
  readonly mode?: number;
}

/** A ustar archive of `entries` with end blocks, written byte by byte (no checks). */
export function rawTestTar(entries: readonly RawTarEntry[]): Uint8Array {
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

/** Options of {@link rawTestPackage}. */
export interface RawTestPackageOptions {
  /** Signs the package; unsigned without one. */
  readonly signer?: ApkSigner;
  /** The .PKGINFO pkgdesc; none without one. */
  readonly description?: string;
}

/** A package `name-1.0-r0` (x86_64) and its control-segment checksum (`Q1…`). */
export interface RawTestPackage {
  readonly bytes: Uint8Array;
  readonly checksum: string;
}

/** A package `name-1.0-r0` (x86_64, MIT) whose data tar is exactly `entries`. */
export function rawTestPackage(
  name: string,
  entries: readonly RawTarEntry[],
  options: RawTestPackageOptions = {},
): RawTestPackage {
  const data = gzipDeterministic(rawTestTar(entries), 6);
  const pkginfo = formatPkgInfo({
    pkgname: name,
    pkgver: "1.0-r0",
    ...(options.description === undefined ? {} : { pkgdesc: options.description }),
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
      [{ path: ".PKGINFO", type: "file", mode: 0o644, content: new TextEncoder().encode(pkginfo) }],
      { cut: true },
    ),
    6,
  );
  const checksum = `Q1${createHash("sha1").update(control).digest("base64")}`;
  const members =
    options.signer === undefined
      ? [control, data]
      : [createSignatureMember(control, options.signer), control, data];
  return { bytes: Buffer.concat(members), checksum };
}
