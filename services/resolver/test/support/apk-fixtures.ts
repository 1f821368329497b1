// APK material for the resolver's tests: the real Alpine 3.16 index laid out
// as a repository directory, and small signed packages built on the fly.
import { copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export type { TestSigningKey } from "@tailor/apk/testing";
export { buildTestPackage as buildPackage, createTestSigningKey } from "@tailor/apk/testing";

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
