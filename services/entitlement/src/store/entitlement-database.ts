import type { Kysely, Transaction } from "@tailor/db";
import type { OutboxTables } from "@tailor/outbox";
import type { ApiKeysTable } from "./api-keys.table.js";
import type { IdentitiesTable } from "./identities.table.js";
import type { CustomizableSourceImagesTable, OrganizationsTable } from "./organizations.table.js";
import type { PackageGrantsTable, PurchasesTable } from "./purchases.table.js";
import type { TokenSigningKeysTable } from "./token-signing-keys.table.js";

/** Tables of the `entitlement` schema; `event_outbox` holds events until JetStream stored them. */
export interface EntitlementDatabase extends OutboxTables {
  organizations: OrganizationsTable;
  customizable_source_images: CustomizableSourceImagesTable;
  purchases: PurchasesTable;
  package_grants: PackageGrantsTable;
  identities: IdentitiesTable;
  api_keys: ApiKeysTable;
  token_signing_keys: TokenSigningKeysTable;
}

/** What repository functions take first: the database or a transaction on it. */
export type EntitlementDb = Kysely<EntitlementDatabase> | Transaction<EntitlementDatabase>;
