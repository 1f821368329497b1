/** An organization's APK repository as the gateway serves it: `/apk/<org id or name>/`. */
export interface ApkOrganization {
  readonly id: string;
  /** URL-safe organization name; it starts the names of the organization's keys. */
  readonly name: string;
}

/** One RSA key that signs (or signed) an organization's APKINDEX. */
export interface ApkRepositoryKey {
  /** Key file name, e.g. `acme-20261128-3f9a1c2e.rsa.pub`: apk's key name and the JWKS `kid`. */
  readonly name: string;
  readonly orgId: string;
  /** SPKI PEM, the content of the `.rsa.pub` file. */
  readonly publicKeyPem: string;
  /** PKCS#8 PEM; never leaves the gateway. */
  readonly privateKeyPem: string;
  readonly createdAt: Date;
  /** Unset for the current key. */
  readonly retiredAt?: Date;
  /** A retired key co-signs the index until then. */
  readonly signsUntil?: Date;
  /** A retired key is listed in the JWKS until then. */
  readonly listedUntil?: Date;
}

/** What may be shown of a key: everything but the private half. */
export type ApkPublicKey = Omit<ApkRepositoryKey, "privateKeyPem">;

/** The public facts of `key`, without its private half. */
export function publicKeyOf(key: ApkRepositoryKey): ApkPublicKey {
  const { privateKeyPem: _secret, ...rest } = key;
  return rest;
}
