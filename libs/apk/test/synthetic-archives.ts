// Builders of synthetic tar, gzip and APK bytes for the reader tests, kept
// raw on purpose: they can write what a proper writer refuses to (bad
// checksums, `../` paths, device nodes, truncated members).
import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import zlib from "node:zlib";
import { crc32 } from "../src/gzip/crc32.js";
import {
  encodePaxRecord,
  TAR_BLOCK_SIZE,
  TAR_FIELDS,
  tarHeaderChecksum,
} from "../src/tar/tar-header.js";

/** One raw tar entry to write. */
export interface RawTarEntry {
  name: string;
  /** Type flag character. @default "0" */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  content?: Uint8Array | string;
  /** Size field when it should differ from the content's length. */
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records, written in an `x` header before the entry. */
  pax?: [string, string | Uint8Array][];
  /** GNU long name written in an `L` header before the entry. */
  gnuLongName?: string;
  /** GNU long link target written in a `K` header before the entry. */
  gnuLongLink?: string;
  /** PAX global records, written in a `g` header before the entry. */
  paxGlobal?: [string, string | Uint8Array][];
  /** Raw bytes for the ustar prefix field (written whatever the format). */
  prefix?: string;
  /** Header layout. @default "ustar" */
  format?: "ustar" | "gnu";
  /** Add this to the stored checksum, to corrupt it. */
  checksumDelta?: number;
}

const encoder = new TextEncoder();

function bytesOf(content: Uint8Array | string | undefined): Uint8Array {
  if (content === undefined) return new Uint8Array(0);
  return typeof content === "string" ? encoder.encode(content) : content;
}

function writeString(block: Uint8Array, field: keyof typeof TAR_FIELDS, value: string): void {
  const bytes = encoder.encode(value);
  const { offset, length } = TAR_FIELDS[field];
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, field: keyof typeof TAR_FIELDS, value: number): void {
  const { length } = TAR_FIELDS[field];
  writeString(block, field, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

/** One header block. */
export function tarHeader(entry: RawTarEntry, size: number): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK_SIZE);
  writeString(block, "name", entry.name);
  writeOctal(block, "mode", entry.mode ?? 0o644);
  writeOctal(block, "uid", entry.uid ?? 0);
  writeOctal(block, "gid", entry.gid ?? 0);
  writeOctal(block, "size", size);
  writeOctal(block, "mtime", entry.mtime ?? 1_700_000_000);
  block[TAR_FIELDS.typeflag.offset] = (entry.type ?? "0").charCodeAt(0);
  writeString(block, "linkname", entry.linkname ?? "");
  if ((entry.format ?? "ustar") === "gnu") {
    // GNU's magic runs over the version field: "ustar  \0".
    block.set(encoder.encode("ustar  \0"), TAR_FIELDS.magic.offset);
  } else {
    writeString(block, "magic", "ustar\0");
    writeString(block, "version", "00");
  }
  writeString(block, "uname", entry.uname ?? "root");
  writeString(block, "gname", entry.gname ?? "root");
  writeOctal(block, "devmajor", entry.devmajor ?? 0);
  writeOctal(block, "devminor", entry.devminor ?? 0);
  if (entry.prefix !== undefined) writeString(block, "prefix", entry.prefix);
  const checksum = tarHeaderChecksum(block).unsigned + (entry.checksumDelta ?? 0);
  writeString(block, "checksum", `${checksum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / TAR_BLOCK_SIZE) * TAR_BLOCK_SIZE);
  out.set(bytes);
  return out;
}

/** A tar stream; `end` adds the two end-of-archive blocks (apk's control streams have none). */
export function tarArchive(entries: RawTarEntry[], options: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.paxGlobal !== undefined) {
      const body = concatBytes(entry.paxGlobal.map(([key, value]) => encodePaxRecord(key, value)));
      parts.push(tarHeader({ name: "pax_global_header", type: "g" }, body.length));
      parts.push(padded(body));
    }
    if (entry.gnuLongLink !== undefined) {
      const link = encoder.encode(`${entry.gnuLongLink}\0`);
      parts.push(tarHeader({ name: "././@LongLink", type: "K", format: "gnu" }, link.length));
      parts.push(padded(link));
    }
    if (entry.gnuLongName !== undefined) {
      const name = encoder.encode(`${entry.gnuLongName}\0`);
      parts.push(tarHeader({ name: "././@LongLink", type: "L", format: "gnu" }, name.length));
      parts.push(padded(name));
    }
    if (entry.pax !== undefined) {
      const body = concatBytes(entry.pax.map(([key, value]) => encodePaxRecord(key, value)));
      parts.push(
        tarHeader({ name: `PaxHeaders/${entry.name.slice(0, 80)}`, type: "x" }, body.length),
      );
      parts.push(padded(body));
    }
    const content = bytesOf(entry.content);
    parts.push(tarHeader(entry, entry.size ?? content.length));
    parts.push(padded(content));
  }
  if (options.end ?? true) parts.push(new Uint8Array(2 * TAR_BLOCK_SIZE));
  return concatBytes(parts);
}

/** Options of {@link gzipMember}: which optional header parts to write. */
export interface GzipMemberOptions {
  level?: number;
  name?: string;
  comment?: string;
  extra?: Uint8Array;
  headerCrc?: boolean;
}

/** One gzip member written by hand (zlib for the deflate part), to exercise every header flag. */
export function gzipMember(data: Uint8Array, options: GzipMemberOptions = {}): Uint8Array {
  let flags = 0;
  const optional: Uint8Array[] = [];
  if (options.extra !== undefined) {
    flags |= 0x04;
    optional.push(new Uint8Array([options.extra.length & 0xff, options.extra.length >> 8]));
    optional.push(options.extra);
  }
  if (options.name !== undefined) {
    flags |= 0x08;
    optional.push(Buffer.from(`${options.name}\0`, "latin1"));
  }
  if (options.comment !== undefined) {
    flags |= 0x10;
    optional.push(Buffer.from(`${options.comment}\0`, "latin1"));
  }
  if (options.headerCrc === true) flags |= 0x02;
  const fixed = new Uint8Array([0x1f, 0x8b, 8, flags, 0x10, 0x20, 0x30, 0x40, 2, 3]);
  let header = concatBytes([fixed, ...optional]);
  if (options.headerCrc === true) {
    const crc16 = crc32(header) & 0xffff;
    header = concatBytes([header, new Uint8Array([crc16 & 0xff, crc16 >> 8])]);
  }
  const body = zlib.deflateRawSync(data, { level: options.level ?? 6 });
  const trailer = new Uint8Array(8);
  const view = new DataView(trailer.buffer);
  view.setUint32(0, crc32(data), true);
  view.setUint32(4, data.length % 2 ** 32, true);
  return concatBytes([header, body, trailer]);
}

/** An RSA key pair for signing test packages. */
export interface TestKey {
  readonly name: string;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

/** A fresh 2048-bit RSA key named like an apk key file. */
export function generateTestKey(name: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    name,
    privateKey,
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** What goes into a synthetic package. */
export interface SyntheticPackage {
  /** `.PKGINFO` text; `datahash = ` is appended unless `datahash` is false or a string. */
  pkginfo?: string;
  /** Extra control entries (scripts, or anything, to test refusals). */
  control?: RawTarEntry[];
  /** Data entries. */
  data?: RawTarEntry[];
  /** Split the data tar into members of this many bytes (as melange does with 1 MiB). */
  dataMemberBytes?: number;
  /** `true`: append the real datahash; a string: append that; `false`: none. @default true */
  datahash?: boolean | string;
  /** Sign with these keys (`.SIGN.<type>.<name>`); the digest follows the type. */
  signers?: { key: TestKey; type?: "RSA" | "RSA256" | "RSA512" }[];
  /** Leave the data segment out entirely. */
  noData?: boolean;
}

/** The bytes of a synthetic package and of its parts. */
export interface SyntheticPackageBytes {
  readonly bytes: Uint8Array;
  readonly signature?: Uint8Array;
  readonly control: Uint8Array;
  readonly data: Uint8Array;
}

const DIGEST = { RSA: "sha1", RSA256: "sha256", RSA512: "sha512" } as const;

/** Builds an APK v2 package the way abuild lays one out. */
export function buildPackage(spec: SyntheticPackage = {}): SyntheticPackageBytes {
  const dataTar = tarArchive(spec.data ?? [{ name: "usr/", type: "5", mode: 0o755 }]);
  let data: Uint8Array = new Uint8Array(0);
  if (spec.noData !== true) {
    const size = spec.dataMemberBytes ?? dataTar.length;
    const members: Uint8Array[] = [];
    for (let at = 0; at < dataTar.length; at += size) {
      members.push(gzipMember(dataTar.subarray(at, at + size)));
    }
    data = concatBytes(members);
  }
  let pkginfo =
    spec.pkginfo ?? "pkgname = synthetic\npkgver = 1.0-r0\narch = x86_64\nsize = 4096\n";
  const datahash = spec.datahash ?? true;
  if (datahash === true) {
    pkginfo += `datahash = ${createHash("sha256").update(data).digest("hex")}\n`;
  } else if (typeof datahash === "string") {
    pkginfo += `datahash = ${datahash}\n`;
  }
  const controlTar = tarArchive([{ name: ".PKGINFO", content: pkginfo }, ...(spec.control ?? [])], {
    end: false,
  });
  const control = gzipMember(controlTar, { level: 9 });
  let signature: Uint8Array | undefined;
  if (spec.signers !== undefined && spec.signers.length > 0) {
    // Without a datahash, apk's signature also covers the data.
    const signed = datahash === false ? concatBytes([control, data]) : control;
    const entries = spec.signers.map(({ key, type = "RSA" }) => ({
      name: `.SIGN.${type}.${key.name}`,
      content: new Uint8Array(sign(DIGEST[type], signed, key.privateKey)),
      format: "gnu" as const,
    }));
    signature = gzipMember(tarArchive(entries, { end: false }), { level: 9 });
  }
  const bytes = concatBytes([...(signature === undefined ? [] : [signature]), control, data]);
  return signature === undefined ? { bytes, control, data } : { bytes, signature, control, data };
}

/** Splits bytes into chunks of pseudo-random sizes (deterministic for a seed). */
export function* chunked(bytes: Uint8Array, seed = 1, maxChunk = 7000): Generator<Uint8Array> {
  let state = seed >>> 0;
  let at = 0;
  while (at < bytes.length) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const size = 1 + (state % maxChunk);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** Concatenation of byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Hex SHA-256. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
