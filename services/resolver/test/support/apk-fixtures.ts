// APK material for the resolver's tests: the real Alpine 3.16 index laid out
// as a repository directory, and small signed packages built on the fly.
import { generateKeyPairSync } from "node:crypto";
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApkSigner, PackageMetadata } from "@tailor/apk";
import { writePackage } from "@tailor/apk";

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

/**
 * Lays out `<dir>/x86_64/APKINDEX.tar.gz` as a copy of the real Alpine v3.16
 * main index (a directory repository refuses symlinks leading outside it);
 * returns its trusted key.
 */
export async function layOutAlpine316(
  dir: string,
  fixturesDir: string,
): Promise<{ name: string; pem: string }> {
  await mkdir(join(dir, "x86_64"), { recursive: true });
  await copyFile(
    join(fixturesDir, "apko/apk/testdata/alpine-316/APKINDEX.tar.gz"),
    join(dir, "x86_64", "APKINDEX.tar.gz"),
  );
  const name = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";
  return { name, pem: await readFile(join(fixturesDir, "alpine-keys", name), "utf8") };
}

/** Writes a small package (x86_64 unless `meta.arch` says otherwise) installing `files` (default: one README of its own). */
export function buildPackage(
  meta: Omit<PackageMetadata, "arch"> & { readonly arch?: string },
  signer: ApkSigner,
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
    signer,
  });
}
