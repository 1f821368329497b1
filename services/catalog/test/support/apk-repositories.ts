// Builds APK repository directories for tests: links to the real Alpine
// fixtures, and synthetic repositories signed with throwaway RSA keys.
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApkSigner, IndexEntry } from "@tailor/apk";
import { indexEntryFromPackage, readPackage, writeApkIndexArchive } from "@tailor/apk";

export type { TestSigningKey } from "@tailor/apk/testing";
export { buildTestPackage as buildPackage, createTestSigningKey } from "@tailor/apk/testing";

/** The official Alpine keys under the fixtures, by short id (e.g. `6165ee59`). */
export async function alpineKey(
  fixturesDir: string,
  id: string,
): Promise<{ name: string; pem: string }> {
  const name = `alpine-devel@lists.alpinelinux.org-${id}.rsa.pub`;
  return { name, pem: await readFile(join(fixturesDir, "alpine-keys", name), "utf8") };
}

/** Files of the real Alpine fixtures this suite uses. */
export function alpineFixtures(fixturesDir: string) {
  return {
    /** Alpine v3.16 main x86_64, 4929 packages, signed by key 6165ee59. */
    index316: join(fixturesDir, "apko/apk/testdata/alpine-316/APKINDEX.tar.gz"),
    /** Listed in the 3.16 index with matching C: and S:. */
    strace: join(fixturesDir, "go-apkutils/testdata/strace-5.17-r0.apk"),
    /** A real Alpine package whose checksum the 3.16 index does not list (it lists curl 7.83.1-r4). */
    curlR1: join(fixturesDir, "go-apkutils/testdata/curl-7.83.1-r1.apk"),
  };
}

/**
 * Lays out an Alpine-style repository under `dir`: `x86_64/APKINDEX.tar.gz`
 * linked to the real 3.16 index, plus `files` (repository-relative name →
 * fixture path or bytes).
 */
export async function layOutAlpineRepository(
  dir: string,
  fixturesDir: string,
  files: Readonly<Record<string, string | Uint8Array>> = {},
): Promise<void> {
  await mkdir(join(dir, "x86_64"), { recursive: true });
  await symlink(alpineFixtures(fixturesDir).index316, join(dir, "x86_64", "APKINDEX.tar.gz"));
  for (const [name, source] of Object.entries(files)) {
    if (typeof source === "string") await symlink(source, join(dir, name));
    else await writeFile(join(dir, name), source);
  }
}

/** The APKINDEX entry `apk index` would write for package bytes. */
export async function indexEntryOf(bytes: Uint8Array): Promise<IndexEntry> {
  return indexEntryFromPackage(await readPackage(bytes), bytes.byteLength);
}

/**
 * Writes `<dir>/<arch>/<name>-<version>.apk` for each package and a signed
 * `<dir>/<arch>/APKINDEX.tar.gz` listing them (or listing `indexOnly` too:
 * entries without a file). Returns the index entries.
 */
export async function writeSyntheticRepository(
  dir: string,
  arch: string,
  packages: readonly Uint8Array[],
  signer: ApkSigner,
  options: { description?: string; indexOnly?: readonly IndexEntry[] } = {},
): Promise<IndexEntry[]> {
  const archDir = join(dir, arch);
  await mkdir(archDir, { recursive: true });
  const entries: IndexEntry[] = [];
  for (const bytes of packages) {
    const entry = await indexEntryOf(bytes);
    entries.push(entry);
    await writeFile(join(archDir, `${entry.name}-${entry.version}.apk`), bytes);
  }
  entries.push(...(options.indexOnly ?? []));
  const index = await writeApkIndexArchive({
    entries,
    signer,
    description: options.description ?? "tailor-test",
  });
  await writeFile(join(archDir, "APKINDEX.tar.gz"), index);
  return entries;
}
