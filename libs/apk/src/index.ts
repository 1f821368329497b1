/**
 * @tailor/apk — APK v2 packages, APKINDEX, versions, dependency atoms,
 * signatures and the installed database, exactly as apk-tools reads and
 * writes them. Pure domain code: it works on buffers and streams handed to it.
 */
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
export type { ApkErrorLocation } from "./errors.js";
