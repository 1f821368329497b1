import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.token_signing_keys`. */
export interface TokenSigningKeysTable {
  /** Key id, the token header's `kid`. */
  id: string;
  /** SPKI PEM. */
  public_key_pem: string;
  /** PKCS#8 PEM. */
  private_key_pem: string;
  created_at: ColumnType<Date, Date | undefined, never>;
  /** Null for the current key. */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A stored signing key row. */
export type TokenSigningKeyRow = Selectable<TokenSigningKeysTable>;
