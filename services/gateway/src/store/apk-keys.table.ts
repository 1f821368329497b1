import type { ColumnType, Selectable } from "@tailor/db";

/**
 * Row shape of `gateway.apk_signing_keys`: the RSA keys that sign each
 * organization's APKINDEX. One key per organization is current
 * (`retired_at` null); retired keys keep co-signing until `signs_until` and
 * stay in the organization's JWKS until `listed_until`.
 */
export interface ApkSigningKeysTable {
  /**
   * Key file name, e.g. `acme-20261128-3f9a1c2e.rsa.pub`: the `.SIGN.RSA256.<name>`
   * suffix. The JWKS `kid` is this name without ".rsa.pub".
   */
  name: string;
  org_id: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as abuild writes `.rsa.pub` files. */
  public_key_pem: string;
  /** PKCS#8 PEM. Stored as is: the gateway schema's access control is its only protection. */
  private_key_pem: string;
  created_at: ColumnType<Date, Date, never>;
  /** Null for the organization's current key. */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** A retired key co-signs the index until then; null while current. */
  signs_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** A retired key is listed in the JWKS and served as a key file until then; null while current. */
  listed_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A stored APK signing key row. */
export type ApkSigningKeyRow = Selectable<ApkSigningKeysTable>;

/** Tables holding organizations' APK repository signing keys. */
export interface ApkKeyTables {
  apk_signing_keys: ApkSigningKeysTable;
}
