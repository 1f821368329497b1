import { generateKeyPairSync } from "node:crypto";
import type { ApkSigner } from "../signature/signer.js";
import type { PackageMetadata } from "../writer/package-writer.js";
import { writePackage } from "../writer/package-writer.js";

/** A throwaway signing key: the signer for writing, the public half as a repository's trusted key. */
export interface TestSigningKey {
  readonly signer: ApkSigner;
  readonly trustedKey: { name: string; pem: string };
}

/** Creates an RSA key named like an apk key file, e.g. `test-1.rsa.pub`. */
export function createTestSigningKey(keyName: string): TestSigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    signer: {
      keyName,
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      algorithm: "sha256",
    },
    trustedKey: {
      name: keyName,
      pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
  };
}

/** Metadata of a synthetic package; arch defaults to x86_64. */
export type TestPackageMetadata = Omit<PackageMetadata, "arch"> & { readonly arch?: string };

/**
 * Writes a small package installing `files` (default: one README of its
 * own under /usr/share), each holding `<name> <version> <path>`; signed by
 * `signer`, unsigned without one.
 */
export function buildTestPackage(
  meta: TestPackageMetadata,
  signer?: ApkSigner,
  files: readonly string[] = [`usr/share/${meta.name}/README`],
): Promise<Uint8Array> {
  return writePackage({
    pkginfo: { arch: "x86_64", description: `${meta.name} for tests`, license: "MIT", ...meta },
    files: files.map((path) => ({
      path,
      type: "file" as const,
      content: new TextEncoder().encode(`${meta.name} ${meta.version} ${path}\n`),
    })),
    mtime: 1_700_000_000,
    ...(signer === undefined ? {} : { signer }),
  });
}
