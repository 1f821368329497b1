/**
 * Architecture names: apko accepts OCI/Go names (`amd64`, `arm64`, `arm/v7`)
 * as well as apk names (`x86_64`, `aarch64`, `armv7`); Tailor stores the apk
 * names, which are the directory names of APK repositories.
 */
const APK_ARCH_BY_NAME: Readonly<Record<string, string>> = {
  x86_64: "x86_64",
  amd64: "x86_64",
  aarch64: "aarch64",
  arm64: "aarch64",
  x86: "x86",
  "386": "x86",
  i386: "x86",
  i686: "x86",
  armv7: "armv7",
  "arm/v7": "armv7",
  armhf: "armhf",
  "arm/v6": "armhf",
  ppc64le: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loongarch64: "loongarch64",
  loong64: "loongarch64",
};

/** Every apk architecture Tailor knows, in apk's spelling. */
export const APK_ARCHES: readonly string[] = [...new Set(Object.values(APK_ARCH_BY_NAME))];

/** The architectures of a source image that names none (sorted, as every arch list is stored). */
export const DEFAULT_ARCHES: readonly string[] = ["aarch64", "x86_64"];

/**
 * The apk name of an architecture given in apko or OCI spelling
 * (`amd64` → `x86_64`, `arm64` → `aarch64`, `arm/v7` → `armv7`), or
 * undefined when Tailor does not know it.
 */
export function normalizeArch(name: string): string | undefined {
  return APK_ARCH_BY_NAME[name.trim().toLowerCase()];
}
