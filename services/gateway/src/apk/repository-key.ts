/** An organization's APK repository as the gateway serves it: `/apk/<org id or name>/`. */
export interface ApkOrganization {
  readonly id: string;
  /** URL-safe organization name; it starts the names of the organization's keys. */
  readonly name: string;
}

/**
 * One RSA key that signs (or signed) an organization's APKINDEX, as far as
 * anyone may see it: everything but its private half.
 */
export interface ApkRepositoryKey {
  /**
   * Key file name, e.g. `acme-20261128-3f9a1c2e.rsa.pub`: the name apk looks
   * the key up by in `/etc/apk/keys` and the suffix of its `.SIGN.RSA256.`
   * index entry. The JWKS `kid` is this name without ".rsa.pub".
   */
  readonly name: string;
  readonly orgId: string;
  /** SPKI PEM, the content of the `.rsa.pub` file. */
  readonly publicKeyPem: string;
  readonly createdAt: Date;
  /** Unset for the current key. */
  readonly retiredAt?: Date;
  /** A retired key co-signs the index until then. */
  readonly signsUntil?: Date;
  /** A retired key is listed in the JWKS until then. */
  readonly listedUntil?: Date;
}

/** A repository key with its private half: only the index signer reads these. */
export interface ApkSigningKey extends ApkRepositoryKey {
  /** PKCS#8 PEM; never leaves the gateway. */
  readonly privateKeyPem: string;
}

/** The public facts of `key`, without its private half. */
export function publicKeyOf(key: ApkRepositoryKey | ApkSigningKey): ApkRepositoryKey {
  if (!("privateKeyPem" in key)) return key;
  const { privateKeyPem: _secret, ...rest } = key;
  return rest;
}
