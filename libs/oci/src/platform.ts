/** OCI platforms and the mapping from APK architecture names. */
import { UnknownArchitectureError } from "./errors.js";

/** The platform an image runs on, as in an image index and image config. */
export interface Platform {
  /** OCI (Go) architecture name: `amd64`, `arm64`, `arm`, `386`, `ppc64le`, `s390x`, `riscv64`, `loong64`. */
  architecture: string;
  /** Always `linux` for APK-based images. */
  os: "linux";
  /** CPU variant: `v8` for arm64, `v7`/`v6` for arm. */
  variant?: string;
}

const APK_ARCHES: Readonly<Record<string, Platform>> = {
  x86_64: { architecture: "amd64", os: "linux" },
  aarch64: { architecture: "arm64", os: "linux", variant: "v8" },
  armv7: { architecture: "arm", os: "linux", variant: "v7" },
  armhf: { architecture: "arm", os: "linux", variant: "v6" },
  x86: { architecture: "386", os: "linux" },
  ppc64le: { architecture: "ppc64le", os: "linux" },
  s390x: { architecture: "s390x", os: "linux" },
  riscv64: { architecture: "riscv64", os: "linux" },
  loongarch64: { architecture: "loong64", os: "linux" },
};

// OCI names given as such map to the same platforms (arm64 gets its v8 variant).
const OCI_ARCHES: Readonly<Record<string, Platform>> = {
  amd64: { architecture: "amd64", os: "linux" },
  arm64: { architecture: "arm64", os: "linux", variant: "v8" },
  386: { architecture: "386", os: "linux" },
  loong64: { architecture: "loong64", os: "linux" },
};

/**
 * The OCI platform of an APK architecture: x86_64→amd64, aarch64→arm64/v8,
 * armv7→arm/v7, armhf→arm/v6, x86→386, loongarch64→loong64; ppc64le, s390x
 * and riscv64 keep their names. OCI names (`amd64`, `arm64`, `386`) are
 * accepted too. Returns a fresh object.
 * @throws UnknownArchitectureError for anything else.
 */
export function platformForApkArch(arch: string): Platform {
  const platform = Object.hasOwn(APK_ARCHES, arch)
    ? APK_ARCHES[arch]
    : Object.hasOwn(OCI_ARCHES, arch)
      ? OCI_ARCHES[arch]
      : undefined;
  if (platform === undefined) throw new UnknownArchitectureError(arch);
  return { ...platform };
}
