// Hostile packages for the builder's tests: data tars with entries apk and
// the OCI layer stack must never see (`..` paths, device nodes, whiteouts),
// signed like real packages, served from an upstream repository directory
// whose signed APKINDEX lists them. Raw tar headers are written byte by byte
// because libs/apk's writer refuses such entries.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ApkSigner, IndexEntry } from "@tailor/apk";
import { writeApkIndexArchive } from "@tailor/apk";
import type { RawTarEntry } from "@tailor/apk/testing";
import { rawTestPackage } from "@tailor/apk/testing";

/** A signed package with its APKINDEX entry. */
export interface RawPackage {
  readonly bytes: Uint8Array;
  readonly entry: IndexEntry;
}

/** A signed x86_64 package `name-1.0-r0` whose data tar is exactly `entries`. */
export function rawPackage(
  name: string,
  entries: readonly RawTarEntry[],
  signer: ApkSigner,
): RawPackage {
  const { bytes, checksum } = rawTestPackage(name, entries, {
    signer,
    description: `${name} (hostile)`,
  });
  return {
    bytes,
    entry: {
      checksum,
      name,
      version: "1.0-r0",
      arch: "x86_64",
      size: bytes.byteLength,
      installedSize: 1,
      description: `${name} (hostile)`,
      url: "",
      license: "MIT",
      buildTime: 1_700_000_000,
      depends: [],
      provides: [],
      installIf: [],
    },
  };
}

/** Writes `<dir>/x86_64/<name>-<version>.apk` per package and a signed APKINDEX listing them. */
export async function writeUpstreamRepository(
  dir: string,
  packages: readonly RawPackage[],
  signer: ApkSigner,
): Promise<void> {
  const archDir = join(dir, "x86_64");
  await mkdir(archDir, { recursive: true });
  for (const { bytes, entry } of packages) {
    await writeFile(join(archDir, `${entry.name}-${entry.version}.apk`), bytes);
  }
  const index = await writeApkIndexArchive({
    entries: packages.map((pkg) => pkg.entry),
    signer,
    description: "hostile-upstream",
  });
  await writeFile(join(archDir, "APKINDEX.tar.gz"), index);
}
