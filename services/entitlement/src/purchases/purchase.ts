/** A source image an organization bought. */
export interface Purchase {
  readonly orgId: string;
  readonly sourceImage: string;
  readonly purchasedAt: Date;
}

/** A package an organization may use by name beyond what its purchases bring. */
export interface PackageGrant {
  readonly orgId: string;
  readonly packageName: string;
  readonly reason: string;
  readonly grantedAt: Date;
}

/** Everything an organization bought and was granted. */
export interface Entitlements {
  readonly purchases: readonly Purchase[];
  readonly packageGrants: readonly PackageGrant[];
}

const SOURCE_IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** True when `name` can name a source image: lowercase letters, digits, '.', '_', '-', at most 128. */
export function isValidSourceImageName(name: string): boolean {
  return SOURCE_IMAGE_NAME.test(name);
}

// apk package names: letters, digits and + . _ - (e.g. "libstdc++", "py3-pip").
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._-]{0,254}$/;

/** True when `name` can name an APK package. */
export function isValidPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

/** Longest reason a grant may carry, in characters. */
export const MAX_GRANT_REASON_LENGTH = 500;
