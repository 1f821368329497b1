/**
 * Reads an APK v2 package: concatenated gzip members holding an optional
 * signature tar (`.SIGN.*` entries only), the control tar (`.PKGINFO` and
 * install scripts) and the data tar (possibly spread over several members).
 * Streams the input once, with bounded memory, and reports each segment's
 * exact byte range and digests so the data segment can be reused verbatim
 * as an OCI layer.
 */
import { createHash, type Hash } from "node:crypto";
import {
  type ApkErrorLocation,
  BadSignatureError,
  IntegrityError,
  LimitExceededError,
  PackageFormatError,
  TarError,
  UntrustedSignatureError,
} from "../errors.js";
import { readGzipMembers } from "../gzip/gzip-members.js";
import { type GzipSegmentObserver, GzipSegmentReader } from "../gzip/gzip-segments.js";
import { type PkgInfo, parsePkgInfo } from "../pkginfo/pkginfo.js";
import {
  createSignatureVerifier,
  type Keyring,
  parseSignatureEntryName,
  type SignatureInfo,
  type SignatureVerifier,
} from "../signature/keyring.js";
import {
  type ReadLimits,
  readTar,
  relocate,
  resolveReadLimits,
  type TarEntry,
} from "../tar/tar-reader.js";

/** One entry of a package's data tar: its metadata, without content. */
export interface PackageEntry {
  /** Path inside the image, without a leading `/` or `./` (directories without a trailing `/`). */
  path: string;
  /** What the entry is (packages never hold device nodes or FIFOs). */
  type: "file" | "directory" | "symlink" | "hardlink";
  /** Permission bits, `mode & 0o7777`. */
  mode: number;
  /** Numeric owner. */
  uid: number;
  /** Numeric group. */
  gid: number;
  /** Owner name, when the tar header has one. */
  uname?: string;
  /** Group name, when the tar header has one. */
  gname?: string;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Content length (0 for everything but regular files). */
  size: number;
  /** Symlink target as stored, or a hard link's target path. */
  linkTarget?: string;
  /** The hex SHA-1 from the `APK-TOOLS.checksum.SHA1` PAX record, as apk stores it. */
  checksum?: string;
  /** Extended attributes; values are latin1 strings holding the raw bytes. */
  xattrs?: Record<string, string>;
}

/** Where a part of the package lies in the file and what it holds. */
export interface PackageSegment {
  /** Offset of the segment's first byte in the package file. */
  offset: number;
  /** Length in bytes: the segment is the file's `[offset, offset + length)`. */
  length: number;
  /** Number of gzip members in the segment. */
  members: number;
  /** Hex SHA-256 of the segment's compressed bytes. */
  sha256: string;
  /** Hex SHA-256 of the bytes the segment inflates to (a tar stream). */
  uncompressedSha256: string;
  /** Number of bytes the segment inflates to. */
  uncompressedLength: number;
}

/** A file of the control tar other than `.PKGINFO`. */
export interface PackageControlFile {
  /**
   * Entry name. For scripts: `.pre-install`, `.post-install`,
   * `.pre-deinstall`, `.post-deinstall`, `.pre-upgrade`, `.post-upgrade` or
   * `.trigger`; for other files, e.g. melange's `.melange.yaml`.
   */
  name: string;
  /** The file's bytes. */
  content: Uint8Array;
}

/** Everything read from one package. */
export interface ApkPackage {
  /** The parsed `.PKGINFO`. */
  pkginfo: PkgInfo;
  /**
   * apk's identity of the package: `Q1` + base64 of the SHA-1 of the control
   * member's compressed bytes; equals the `C:` line an APKINDEX lists.
   */
  checksum: string;
  /** The signatures found, with their verdicts (in entry order). */
  signatures: SignatureInfo[];
  /** Byte ranges and digests of the signature, control and data parts. */
  segments: { signature?: PackageSegment; control: PackageSegment; data: PackageSegment };
  /** The `.PKGINFO` datahash and the digest of the data segment's compressed bytes. */
  datahash: {
    /** Lower-case hex SHA-256 from `.PKGINFO`, when present. */
    expected?: string;
    /** Hex SHA-256 of the data segment's compressed bytes. */
    actual: string;
    /** Whether they match; absent when `.PKGINFO` has no datahash. */
    ok?: boolean;
  };
  /** Install scripts and triggers, in control-tar order. */
  scripts: PackageControlFile[];
  /**
   * Other top-level dot-files of the control tar, which apk-tools ignores
   * (melange adds `.melange.yaml`), in order.
   */
  otherControlFiles: PackageControlFile[];
  /** Metadata of the data tar's entries, in order. */
  entries: PackageEntry[];
  /** Installed size: `.PKGINFO` `size` when given, else the sum of the regular files' sizes. */
  installedSize: number;
}

/** Options of {@link readPackage}. */
export interface ReadPackageOptions {
  /** Name of the package file, added to every error. */
  file?: string;
  /** Trusted keys. Without one, signatures are reported as `untrusted` and not checked. */
  keyring?: Keyring;
  /**
   * Fail unless a signature by a trusted key verifies.
   * @default true when a keyring is given, else false
   */
  requireSignature?: boolean;
  /**
   * Fail when the data segment does not match the `.PKGINFO` datahash.
   * @default true
   */
  verifyDatahash?: boolean;
  /** Overrides of {@link DEFAULT_READ_LIMITS}. */
  limits?: Partial<ReadLimits>;
  /**
   * Called for each data entry, in order, with its content; the body may be
   * read or ignored. The package is only known good once readPackage
   * resolves: the datahash (or, for packages without one, the signature)
   * covers the data and is checked after the last entry.
   */
  onEntry?: (entry: PackageEntry, body: AsyncIterable<Uint8Array>) => Promise<void>;
}

/** Control entries apk-tools accepts besides `.PKGINFO`: install scripts and the trigger. */
const SCRIPT_NAMES: ReadonlySet<string> = new Set([
  ".pre-install",
  ".post-install",
  ".pre-deinstall",
  ".post-deinstall",
  ".pre-upgrade",
  ".post-upgrade",
  ".trigger",
]);

const PKGINFO = ".PKGINFO";
const SIGN_PREFIX = ".SIGN.";

/**
 * Reads an APK v2 package from its bytes or a stream of chunks.
 *
 * Order of checks follows apk-tools: the signature is checked when the
 * control member ends (or, for a package without datahash, at the end,
 * since it then covers the data too); the datahash after the data.
 *
 * @throws PackageFormatError for a wrong structure (no `.PKGINFO`, a
 *   non-signature entry in the signature member, an unexpected control entry).
 * @throws UntrustedSignatureError when a signature is required and none
 *   verifies with a trusted key; BadSignatureError when a trusted key's
 *   signature does not match (whether or not one is required).
 * @throws IntegrityError when the data does not match the datahash.
 * @throws FieldError, GzipError, TarError, UnsafeEntryError or
 *   LimitExceededError from the layers below. Every error names `options.file`.
 */
export async function readPackage(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  options: ReadPackageOptions = {},
): Promise<ApkPackage> {
  const location: ApkErrorLocation = options.file === undefined ? {} : { file: options.file };
  const limits = resolveReadLimits(options.limits);
  const segments = new GzipSegmentReader(readGzipMembers(source, limits));
  try {
    return await new PackageRead(segments, options, limits, location).run();
  } catch (error) {
    throw relocate(error, location);
  } finally {
    await segments.close();
  }
}

class PackageRead {
  private readonly keyring: Keyring | undefined;
  private readonly requireSignature: boolean;

  constructor(
    private readonly segments: GzipSegmentReader,
    private readonly options: ReadPackageOptions,
    private readonly limits: ReadLimits,
    private readonly location: ApkErrorLocation,
  ) {
    this.keyring = options.keyring;
    this.requireSignature = options.requireSignature ?? options.keyring !== undefined;
  }

  async run(): Promise<ApkPackage> {
    // The first member is either the signature (only .SIGN.* entries) or,
    // in an unsigned package, the control member; its first entry decides.
    // Entries are checked as they arrive, so a data tar posing as a package
    // fails at its first entry rather than after being read into memory.
    const first = new SegmentDigest(true);
    let signed = false;
    const checkFirstAsControl = this.controlEntryCheck();
    const firstEntries = await this.readSmallMember(first, "first", (entry, index) => {
      if (index === 0) signed = entry.path.startsWith(SIGN_PREFIX);
      if (signed) this.checkSignatureEntry(entry);
      else checkFirstAsControl(entry);
    });

    let signatureSegment: SegmentDigest | undefined;
    let control: SegmentDigest;
    let controlEntries: SmallEntry[];
    let verifiers: SignatureVerifier[] = [];
    if (signed) {
      signatureSegment = first;
      verifiers = this.signatureVerifiers(firstEntries);
      if (!(await this.segments.hasMember())) {
        throw new PackageFormatError("ends after the signature: no control member", this.location);
      }
      control = new SegmentDigest(true, verifiers);
      controlEntries = await this.readSmallMember(control, "control", this.controlEntryCheck());
    } else {
      control = first;
      controlEntries = firstEntries;
    }
    const pkginfoEntry = controlEntries.find(({ entry }) => entry.path === PKGINFO);
    if (pkginfoEntry === undefined) {
      throw new PackageFormatError("the control member has no .PKGINFO", this.location);
    }
    const scripts: PackageControlFile[] = [];
    const otherControlFiles: PackageControlFile[] = [];
    for (const { entry, content } of controlEntries) {
      if (entry.path === PKGINFO) continue;
      const list = SCRIPT_NAMES.has(entry.path) ? scripts : otherControlFiles;
      list.push({ name: entry.path, content });
    }
    const pkginfo = parsePkgInfo(
      new TextDecoder("utf-8").decode(pkginfoEntry.content),
      { ...this.location, entry: PKGINFO },
      { maxBytes: this.limits.maxPkginfoBytes },
    );

    // With a datahash the signature covers the control member alone (apk
    // checks it right here); without one it also covers the data.
    let signatures: SignatureInfo[] | undefined;
    if (pkginfo.datahash !== undefined) {
      signatures = this.verdicts(verifiers);
      verifiers = [];
    }

    const controlEnd = control.end();
    const data = new SegmentDigest(false, verifiers);
    const { entries, fileBytes } = await this.readData(data, pkginfo.datahash);
    signatures ??= this.verdicts(verifiers);

    const dataSegment = data.result(controlEnd);
    const datahash: ApkPackage["datahash"] = { actual: dataSegment.sha256 };
    if (pkginfo.datahash !== undefined) {
      datahash.expected = pkginfo.datahash;
      // apk-tools also refuses a datahash with no data member after it.
      datahash.ok = dataSegment.members > 0 && pkginfo.datahash === dataSegment.sha256;
      if (!datahash.ok && (this.options.verifyDatahash ?? true)) {
        throw dataSegment.members === 0
          ? new IntegrityError(".PKGINFO has a datahash but the package has no data member", {
              ...this.location,
              field: "datahash",
            })
          : datahashMismatch(pkginfo.datahash, dataSegment.sha256, this.location);
      }
    }

    const packageSegments: ApkPackage["segments"] = {
      control: control.result(controlEnd),
      data: dataSegment,
    };
    if (signatureSegment !== undefined) packageSegments.signature = signatureSegment.result(0);
    return {
      pkginfo,
      checksum: `Q1${control.sha1Base64()}`,
      signatures,
      segments: packageSegments,
      datahash,
      scripts,
      otherControlFiles,
      entries,
      installedSize: pkginfo.size ?? fileBytes,
    };
  }

  /**
   * Reads one member (signature or control) into memory, bounded by
   * maxControlBytes; `check` sees each entry before its body is read.
   */
  private async readSmallMember(
    digest: SegmentDigest,
    which: string,
    check: (entry: TarEntry, index: number) => void,
  ): Promise<SmallEntry[]> {
    const max = this.limits.maxControlBytes;
    const stream = this.segments.segment(
      1,
      digest.observer((total) => {
        if (total > max) {
          throw new LimitExceededError(
            `the ${which} member inflates to more than ${max} bytes (maxControlBytes)`,
            this.location,
          );
        }
      }),
    );
    const entries: SmallEntry[] = [];
    const tar = readTar(stream, {
      maxEntries: this.limits.maxEntries,
      maxPathBytes: this.limits.maxPathBytes,
      location: this.location,
    });
    for await (const { entry, body } of tar) {
      check(entry, entries.length);
      const parts: Uint8Array[] = [];
      for await (const chunk of body) parts.push(chunk);
      entries.push({ entry, content: Buffer.concat(parts) });
    }
    await this.segments.finishSegment(stream);
    if (entries.length === 0) {
      throw new PackageFormatError(`the ${which} gzip member holds no tar entries`, this.location);
    }
    return entries;
  }

  private checkSignatureEntry(entry: TarEntry): void {
    const at = { ...this.location, entry: entry.path };
    if (!entry.path.startsWith(SIGN_PREFIX)) {
      throw new PackageFormatError(
        "the signature member holds a non-signature entry (it must hold only .SIGN.* entries)",
        at,
      );
    }
    if (entry.type !== "file") {
      throw new PackageFormatError(`signature entry is a ${entry.type}, not a file`, at);
    }
  }

  private signatureVerifiers(entries: SmallEntry[]): SignatureVerifier[] {
    const verifiers: SignatureVerifier[] = [];
    for (const { entry, content } of entries) {
      // apk-tools skips signature types it does not know (old DSA ones).
      if (parseSignatureEntryName(entry.path) === undefined) continue;
      verifiers.push(createSignatureVerifier(this.keyring, entry.path, content));
    }
    return verifiers;
  }

  /**
   * A check for one control member's entries: top-level dot-files only
   * (as apk-tools reads a control tar), regular files, no repeats.
   */
  private controlEntryCheck(): (entry: TarEntry) => void {
    const seen = new Set<string>();
    return (entry) => {
      const at = { ...this.location, entry: entry.path };
      const why = !entry.path.startsWith(".")
        ? "a data entry inside the control member (not an APK v2 package?)"
        : entry.path.includes("/")
          ? "control entries must be top-level files"
          : entry.path.startsWith(SIGN_PREFIX)
            ? "a signature entry outside the first member"
            : entry.path === ".INSTALL"
              ? "an APK v1 .INSTALL script, which apk-tools refuses"
              : undefined;
      if (why !== undefined) {
        throw new PackageFormatError(`unexpected control entry: ${why}`, at);
      }
      if (entry.type !== "file") {
        throw new PackageFormatError(`control entry is a ${entry.type}, not a file`, at);
      }
      if (seen.has(entry.path)) throw new PackageFormatError("control entry appears twice", at);
      seen.add(entry.path);
      if (entry.path === PKGINFO && entry.size > this.limits.maxPkginfoBytes) {
        throw new LimitExceededError(
          `.PKGINFO is ${entry.size} bytes, over ${this.limits.maxPkginfoBytes} (maxPkginfoBytes)`,
          at,
        );
      }
    };
  }

  /** Each signature's verdict; throws when the keyring's policy is not met. */
  private verdicts(verifiers: SignatureVerifier[]): SignatureInfo[] {
    const signatures = verifiers.map((verifier) => ({
      entry: verifier.entry,
      algorithm: verifier.algorithm,
      keyName: verifier.keyName,
      verdict: verifier.verdict(),
    }));
    // A trusted key's signature that does not match means tampering, even
    // when signatures are optional (apk's --allow-untrusted only forgives
    // unknown keys).
    const bad = signatures.find((signature) => signature.verdict === "bad");
    if (bad !== undefined) {
      throw new BadSignatureError(
        `BAD signature: key "${bad.keyName}" does not verify the signed bytes (${bad.algorithm})`,
        { ...this.location, entry: bad.entry },
      );
    }
    if (this.requireSignature && !signatures.some((signature) => signature.verdict === "ok")) {
      const detail =
        signatures.length === 0
          ? "UNTRUSTED signature: the package is not signed"
          : `UNTRUSTED signature: no trusted key among ${signatures.map((s) => `"${s.keyName}"`).join(", ")}`;
      throw new UntrustedSignatureError(detail, this.location);
    }
    return signatures;
  }

  private async readData(
    digest: SegmentDigest,
    expectedDatahash: string | undefined,
  ): Promise<{ entries: PackageEntry[]; fileBytes: number }> {
    const stream = this.segments.segment(Number.POSITIVE_INFINITY, digest.observer());
    const entries: PackageEntry[] = [];
    let fileBytes = 0;
    try {
      const tar = readTar(stream, {
        maxEntries: this.limits.maxEntries,
        maxPathBytes: this.limits.maxPathBytes,
        location: this.location,
      });
      for await (const { entry, body } of tar) {
        const packageEntry = toPackageEntry(entry);
        entries.push(packageEntry);
        if (entry.type === "file") fileBytes += entry.size;
        if (this.options.onEntry !== undefined) await this.options.onEntry(packageEntry, body);
      }
      await this.segments.finishSegment(stream);
    } catch (error) {
      // A data tar that does not parse may simply not be the data the
      // datahash names: when the rest still inflates, report the mismatch.
      if (error instanceof TarError && expectedDatahash !== undefined) {
        const actual = await this.finishQuietly(stream, digest);
        if (actual !== undefined && actual !== expectedDatahash) {
          throw datahashMismatch(expectedDatahash, actual, this.location, error);
        }
      }
      throw error;
    }
    return { entries, fileBytes };
  }

  private async finishQuietly(
    stream: AsyncIterable<Uint8Array>,
    digest: SegmentDigest,
  ): Promise<string | undefined> {
    try {
      await this.segments.finishSegment(stream);
      return digest.compressedSha256();
    } catch {
      return undefined;
    }
  }
}

interface SmallEntry {
  readonly entry: TarEntry;
  readonly content: Uint8Array;
}

function toPackageEntry(entry: TarEntry): PackageEntry {
  const type = entry.type;
  if (type !== "file" && type !== "directory" && type !== "symlink" && type !== "hardlink") {
    // readTar refuses special files unless asked to allow them.
    throw new TarError(`unexpected ${type} in the data tar`, { entry: entry.path });
  }
  const out: PackageEntry = {
    path: entry.path,
    type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtime: entry.mtime,
    size: entry.size,
  };
  if (entry.uname !== undefined) out.uname = entry.uname;
  if (entry.gname !== undefined) out.gname = entry.gname;
  if (entry.linkTarget !== undefined) out.linkTarget = entry.linkTarget;
  if (entry.checksum !== undefined) out.checksum = entry.checksum;
  if (entry.xattrs !== undefined) out.xattrs = { ...entry.xattrs };
  return out;
}

function datahashMismatch(
  expected: string,
  actual: string,
  location: ApkErrorLocation,
  cause?: unknown,
): IntegrityError {
  return new IntegrityError(
    `data does not match .PKGINFO: datahash ${expected}, data segment sha256 ${actual}`,
    { ...location, field: "datahash" },
    cause === undefined ? undefined : { cause },
  );
}

/** Offsets, sizes and digests of one segment, taken as its bytes stream past. */
class SegmentDigest {
  private offset: number | undefined;
  private length = 0;
  private members = 0;
  private uncompressedLength = 0;
  private readonly compressed: Hash = createHash("sha256");
  private readonly uncompressed: Hash = createHash("sha256");
  private readonly sha1: Hash | undefined;
  private compressedHex: string | undefined;

  constructor(
    withSha1: boolean,
    private readonly verifiers: readonly SignatureVerifier[] = [],
  ) {
    this.sha1 = withSha1 ? createHash("sha1") : undefined;
  }

  /** An observer feeding this digest; `onSize` sees the running inflated size. */
  observer(onSize?: (uncompressed: number) => void): GzipSegmentObserver {
    return {
      onMemberStart: (_index, offset) => {
        this.offset ??= offset;
      },
      onCompressed: (bytes) => {
        this.length += bytes.length;
        this.compressed.update(bytes);
        this.sha1?.update(bytes);
        for (const verifier of this.verifiers) verifier.update(bytes);
      },
      onData: (bytes) => {
        this.uncompressedLength += bytes.length;
        this.uncompressed.update(bytes);
        onSize?.(this.uncompressedLength);
      },
      onMemberEnd: () => {
        this.members++;
      },
    };
  }

  /** Offset just past the segment. */
  end(): number {
    return (this.offset ?? 0) + this.length;
  }

  compressedSha256(): string {
    this.compressedHex ??= this.compressed.digest("hex");
    return this.compressedHex;
  }

  sha1Base64(): string {
    return this.sha1?.digest("base64") ?? "";
  }

  /** The finished segment; `emptyOffset` is where an empty segment sits. */
  result(emptyOffset: number): PackageSegment {
    return {
      offset: this.offset ?? emptyOffset,
      length: this.length,
      members: this.members,
      sha256: this.compressedSha256(),
      uncompressedSha256: this.uncompressed.digest("hex"),
      uncompressedLength: this.uncompressedLength,
    };
  }
}
