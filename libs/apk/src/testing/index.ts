/**
 * @tailor/apk/testing — APK material for tests: throwaway signing keys,
 * small packages written with writePackage, and raw (hostile) packages whose
 * data tar is written byte by byte because the writer refuses such entries.
 */

export type { RawTarEntry, RawTestPackage, RawTestPackageOptions } from "./raw-test-package.js";
export { rawTestPackage, rawTestTar } from "./raw-test-package.js";
export type { TestPackageMetadata, TestSigningKey } from "./test-packages.js";
export { buildTestPackage, createTestSigningKey } from "./test-packages.js";
