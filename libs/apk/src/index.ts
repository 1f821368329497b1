/**
 * @tailor/apk — APK v2 packages, APKINDEX, versions, dependency atoms,
 * signatures and the installed database, exactly as apk-tools reads and
 * writes them. Pure domain code: it works on buffers and streams handed to it.
 */

export type { ApkErrorLocation } from "./errors.js";
export {
  ApkError,
  AtomError,
  BadSignatureError,
  FieldError,
  GzipError,
  IntegrityError,
  LimitExceededError,
  PackageFormatError,
  SignatureError,
  TarError,
  UnsafeEntryError,
  UntrustedSignatureError,
  VersionError,
} from "./errors.js";
export { crc32 } from "./gzip/crc32.js";
export type { GzipHeader } from "./gzip/gzip-header.js";
export {
  GZIP_MAX_HEADER_BYTES,
  GZIP_TRAILER_BYTES,
  parseGzipHeader,
} from "./gzip/gzip-header.js";
export type { GzipEvent, GzipMember, GzipReadOptions } from "./gzip/gzip-members.js";
export {
  DEFAULT_MAX_EXPANSION_RATIO,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  EXPANSION_CHECK_THRESHOLD_BYTES,
  readGzipMembers,
} from "./gzip/gzip-members.js";
// Writing (tar, signatures, packages), APKINDEX, the installed database and world.
export type {
  ApkIndexArchive,
  ReadApkIndexArchiveOptions,
  WriteApkIndexArchiveOptions,
} from "./index/apk-index-archive.js";
export {
  DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES,
  readApkIndexArchive,
  writeApkIndexArchive,
} from "./index/apk-index-archive.js";
export type {
  ParseApkIndexOptions,
  ParsedApkIndex,
  SkippedIndexRecord,
} from "./index/apk-index-text.js";
export { formatApkIndexText, parseApkIndexText } from "./index/apk-index-text.js";
export type { IndexEntry } from "./index/index-entry.js";
export { isPackageChecksum } from "./index/index-entry.js";
export { indexEntryFromPackage } from "./index/index-entry-from-package.js";
export type {
  InstalledAcl,
  InstalledDirectory,
  InstalledFile,
  InstalledRecord,
  ParseInstalledDbOptions,
} from "./installed/installed-db.js";
export {
  DEFAULT_DIRECTORY_ACL,
  DEFAULT_FILE_ACL,
  formatInstalledDb,
  formatInstalledRecord,
  parseInstalledDb,
} from "./installed/installed-db.js";
export { installedRecordFromPackage } from "./installed/installed-record-from-package.js";
export type { ParseWorldOptions } from "./installed/world.js";
export { formatWorld, parseWorld } from "./installed/world.js";
export type {
  ApkPackage,
  PackageControlFile,
  PackageEntry,
  PackageSegment,
  ReadPackageOptions,
} from "./package/package-reader.js";
export { readPackage } from "./package/package-reader.js";
export type { ParsePkgInfoOptions, PkgInfo } from "./pkginfo/pkginfo.js";
// Reading packages: .PKGINFO, gzip members, tar, signatures, the package reader.
export {
  DEFAULT_MAX_PKGINFO_BYTES,
  formatPkgInfo,
  parsePkgInfo,
} from "./pkginfo/pkginfo.js";
export type {
  Keyring,
  SignatureDigest,
  SignatureInfo,
  SignatureVerdict,
  SignatureVerifier,
} from "./signature/keyring.js";
export {
  createKeyring,
  createSignatureVerifier,
  parseSignatureEntryName,
  verifySignature,
} from "./signature/keyring.js";
export type { ApkSigner, SignatureAlgorithm, SignatureMemberOptions } from "./signature/signer.js";
export {
  createSignatureMember,
  signatureEntryName,
  signBytes,
} from "./signature/signer.js";
export type { PaxRecord, RawTarHeader } from "./tar/tar-header.js";
export {
  encodePaxRecord,
  GNU_MAGIC,
  isZeroBlock,
  PAX_APK_CHECKSUM_SHA1,
  PAX_XATTR_PREFIX,
  parsePaxRecords,
  parseTarHeader,
  parseTarNumber,
  parseTarString,
  TAR_BLOCK_SIZE,
  TAR_FIELDS,
  TAR_TYPE,
  tarHeaderChecksum,
  USTAR_MAGIC,
  verifyTarHeaderChecksum,
} from "./tar/tar-header.js";
export type {
  ReadLimits,
  ReadTarGzipOptions,
  TarEntry,
  TarEntryType,
  TarGzipContents,
  TarGzipFile,
  TarReadOptions,
  TarStreamEntry,
} from "./tar/tar-reader.js";
export {
  DEFAULT_READ_LIMITS,
  readTar,
  readTarGzip,
  resolveReadLimits,
} from "./tar/tar-reader.js";
export type {
  TarHeaderStyle,
  TarWriterEntry,
  TarWriterEntryType,
  TarWriterOptions,
} from "./tar/tar-writer.js";
export { normalizeArchivePath, writeTar } from "./tar/tar-writer.js";
export type { Atom, ParseAtomOptions, ParseDependenciesOptions, Provide } from "./version/atom.js";
export {
  formatAtom,
  formatDependencies,
  formatProvide,
  parseAtom,
  parseDependencies,
  parseProvide,
  parseProvides,
} from "./version/atom.js";
export type { VersionOp } from "./version/version.js";
// Versions and dependency atoms (src/version/).
export {
  assertValidVersion,
  compareVersions,
  isValidVersion,
  matchesFuzzy,
  VERSION_OPS,
  versionProblem,
  versionRelation,
  versionSatisfies,
} from "./version/version.js";
export type { VersionDataFailure, VersionDataResult } from "./version/version-data.js";
export { runVersionData } from "./version/version-data.js";
export { gzipDeterministic } from "./writer/deterministic-gzip.js";
export type {
  PackageFile,
  PackageFileTree,
  PackageFileType,
  PackageMetadata,
  PackageScript,
  PackageScriptName,
  WritePackageOptions,
} from "./writer/package-writer.js";
export { filesFromTree, writePackage } from "./writer/package-writer.js";
