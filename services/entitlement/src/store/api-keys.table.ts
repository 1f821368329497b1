import type { ColumnType, Selectable } from "@tailor/db";

/** Row shape of `entitlement.api_keys`; the secret itself is never stored. */
export interface ApiKeysTable {
  /** Public key id, the `<id>` of `tlr_<id>_<secret>`. */
  id: string;
  identity_id: string;
  /** SHA-256 of the secret, hex. */
  secret_hash: string;
  description: ColumnType<string, string | undefined, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
  expires_at: ColumnType<Date | null, Date | null | undefined, never>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** A stored API key row (including its secret hash). */
export type ApiKeyRow = Selectable<ApiKeysTable>;
