/**
 * APKINDEX.tar.gz: an optional signature member (`.SIGN.RSA*.<key>`
 * entries), then one member holding `DESCRIPTION` and `APKINDEX`, written by
 * apk-tools' own tar writer. The signature covers that member's compressed
 * bytes, so only what is inside it is trusted.
 */

import type { ApkErrorLocation } from "../errors.js";
import {
  BadSignatureError,
  LimitExceededError,
  PackageFormatError,
  UntrustedSignatureError,
} from "../errors.js";
import type { Keyring, SignatureInfo } from "../signature/keyring.js";
import { parseSignatureEntryName, verifySignature } from "../signature/keyring.js";
import type { ApkSigner } from "../signature/signer.js";
import { createSignatureMember } from "../signature/signer.js";
import type { ReadLimits, TarGzipFile } from "../tar/tar-reader.js";
import { readTarGzip } from "../tar/tar-reader.js";
import type { TarWriterEntry } from "../tar/tar-writer.js";
import { writeTar } from "../tar/tar-writer.js";
import { gzipDeterministic } from "../writer/deterministic-gzip.js";
import type { ParsedApkIndex } from "./apk-index-text.js";
import { formatApkIndexText, parseApkIndexText } from "./apk-index-text.js";
import type { IndexEntry } from "./index-entry.js";

/** Options of {@link readApkIndexArchive}. */
export interface ReadApkIndexArchiveOptions {
  /** Name of the archive (URL or path), added to every error and skipped record. */
  readonly file?: string;
  /** Trusted keys. Without one, every signature is reported `untrusted`. */
  readonly keyring?: Keyring;
  /**
   * Refuse an archive without a signature that verifies with the keyring
   * (apk's default; `--allow-untrusted` turns it off). @default true when a keyring is given
   */
  readonly requireSignature?: boolean;
  /**
   * Size limits while inflating (the whole index is kept in memory).
   * `maxUncompressedBytes` defaults to {@link DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES}
   * here, not to the 4 GiB of packages.
   */
  readonly limits?: Partial<ReadLimits>;
}

/** What {@link readApkIndexArchive} found. */
export interface ApkIndexArchive extends ParsedApkIndex {
  /** `DESCRIPTION` (e.g. `v3.19.7-221-g6d95969d7b7`), when present. */
  readonly description?: string;
  /** Every signature in the signature member, with its verdict. */
  readonly signatures: SignatureInfo[];
}

const SIGN_PREFIX = ".SIGN.";
const decoder = new TextDecoder("utf-8");

/**
 * Default inflated size limit of an APKINDEX.tar.gz: 256 MiB, ten times
 * Alpine's largest index, and well under the longest string V8 can hold.
 */
export const DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;
// V8's longest string (2^29 - 24 UTF-16 units); UTF-8 never decodes to more units than bytes.
const MAX_DECODABLE_BYTES = 2 ** 29 - 24;

/**
 * Reads an APKINDEX.tar.gz, signed or not, and checks its signatures.
 * A signature that verifies is enough; otherwise a signature by a trusted
 * key that does not verify is a {@link BadSignatureError} (apk's BAD
 * signature, which `--allow-untrusted` does not excuse), and no signature
 * by a trusted key is an {@link UntrustedSignatureError} when a signature is
 * required. `.SIGN` entries after the signed member are not signatures.
 *
 * @throws GzipError, TarError, LimitExceededError for a damaged archive.
 * @throws PackageFormatError when there is no `APKINDEX` in the signed
 *   member, it is there twice, or entries follow the signed member.
 */
export async function readApkIndexArchive(
  bytes: Uint8Array,
  options: ReadApkIndexArchiveOptions = {},
): Promise<ApkIndexArchive> {
  const location: ApkErrorLocation = options.file === undefined ? {} : { file: options.file };
  const { members, files } = await readTarGzip(bytes, {
    ...(options.file === undefined ? {} : { file: options.file }),
    limits: { maxUncompressedBytes: DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES, ...options.limits },
  });

  // Leading members made only of .SIGN entries carry signatures for the next one.
  const byMember = new Map<number, TarGzipFile[]>();
  for (const file of files) {
    const list = byMember.get(file.member) ?? [];
    list.push(file);
    byMember.set(file.member, list);
  }
  let signed = 0;
  for (;;) {
    const list = byMember.get(signed) ?? [];
    if (list.length === 0 || !list.every((f) => f.entry.path.startsWith(SIGN_PREFIX))) break;
    signed++;
  }
  const signedMember = members[signed];
  if (signedMember === undefined) {
    throw new PackageFormatError("no index member after the signatures", location);
  }
  const signedBytes = bytes.subarray(
    signedMember.offset,
    signedMember.offset + signedMember.length,
  );

  // Nothing is decoded before the signatures are checked.
  let index: TarGzipFile | undefined;
  let descriptionFile: TarGzipFile | undefined;
  for (const file of byMember.get(signed) ?? []) {
    if (file.entry.type !== "file") continue;
    if (file.entry.path === "APKINDEX") {
      if (index !== undefined) {
        throw new PackageFormatError("holds APKINDEX twice", { ...location, entry: "APKINDEX" });
      }
      index = file;
    } else if (file.entry.path === "DESCRIPTION") {
      descriptionFile = file;
    }
  }
  const trailing = files.find((file) => file.member > signed);
  if (trailing !== undefined) {
    throw new PackageFormatError("has entries after the index member, outside any signature", {
      ...location,
      entry: trailing.entry.path,
    });
  }
  if (index === undefined) {
    throw new PackageFormatError("has no APKINDEX in its index member", location);
  }

  const signatures: SignatureInfo[] = [];
  for (let member = 0; member < signed; member++) {
    for (const file of byMember.get(member) ?? []) {
      const parsed = parseSignatureEntryName(file.entry.path);
      // apk skips signature types it does not know (DSA, malformed names).
      if (parsed === undefined) continue;
      const verdict =
        options.keyring === undefined
          ? "untrusted"
          : verifySignature(options.keyring, file.entry.path, file.content, signedBytes);
      signatures.push({ entry: file.entry.path, ...parsed, verdict });
    }
  }
  checkSignatures(signatures, options, location);

  const decode = (file: TarGzipFile): string => {
    if (file.content.length > MAX_DECODABLE_BYTES) {
      throw new LimitExceededError(
        `${file.entry.path} of ${file.content.length} bytes is too large to read as text`,
        { ...location, entry: file.entry.path },
      );
    }
    return decoder.decode(file.content);
  };
  const text = decode(index);
  const description = descriptionFile === undefined ? undefined : decode(descriptionFile);
  const parsed = parseApkIndexText(text, options.file === undefined ? {} : { file: options.file });
  return {
    ...parsed,
    ...(description === undefined ? {} : { description }),
    signatures,
  };
}

function checkSignatures(
  signatures: readonly SignatureInfo[],
  options: ReadApkIndexArchiveOptions,
  location: ApkErrorLocation,
): void {
  if (signatures.some((s) => s.verdict === "ok")) return;
  const bad = signatures.find((s) => s.verdict === "bad");
  if (bad !== undefined) {
    throw new BadSignatureError(
      `signature by trusted key "${bad.keyName}" does not match the index: altered or corrupt`,
      { ...location, entry: bad.entry },
    );
  }
  const required = options.requireSignature ?? options.keyring !== undefined;
  if (!required) return;
  const names = signatures.map((s) => s.keyName);
  throw new UntrustedSignatureError(
    names.length === 0
      ? "is not signed"
      : `is signed only by keys not in the keyring (${names.join(", ")})`,
    location,
  );
}

/** Input of {@link writeApkIndexArchive}. */
export interface WriteApkIndexArchiveOptions {
  /** Packages, written in the given order. */
  readonly entries: Iterable<IndexEntry>;
  /** `DESCRIPTION` text (e.g. a repository version), written first when given. */
  readonly description?: string;
  /** Sign the index member (one `.SIGN.*` entry per signer). */
  readonly signer?: ApkSigner | readonly ApkSigner[];
  /** Modification time of the tar entries and the signature. @default 0 */
  readonly mtime?: number;
  /** gzip level. @default 9 */
  readonly gzipLevel?: number;
}

/**
 * Writes an APKINDEX.tar.gz as `apk index` and abuild-sign do: a tar in
 * apk-tools' own format (`DESCRIPTION`, then `APKINDEX`, root:root 0644,
 * with end-of-archive blocks) in one gzip member, preceded by the signature
 * member when signers are given. Deterministic.
 * @throws FieldError for an entry that cannot be written; SignatureError for an unusable key.
 */
export async function writeApkIndexArchive(
  options: WriteApkIndexArchiveOptions,
): Promise<Uint8Array> {
  const mtime = options.mtime ?? 0;
  const level = options.gzipLevel ?? 9;
  const entry = (path: string, text: string): TarWriterEntry => ({
    path,
    type: "file",
    mode: 0o644,
    mtime,
    content: new Uint8Array(Buffer.from(text, "utf8")),
  });
  const tarEntries: TarWriterEntry[] = [];
  if (options.description !== undefined) tarEntries.push(entry("DESCRIPTION", options.description));
  tarEntries.push(entry("APKINDEX", formatApkIndexText(options.entries)));
  const indexMember = gzipDeterministic(writeTar(tarEntries, { style: "apk" }), level);
  if (options.signer === undefined) return indexMember;
  const signature = createSignatureMember(indexMember, options.signer, { mtime, gzipLevel: level });
  return new Uint8Array(Buffer.concat([signature, indexMember]));
}
