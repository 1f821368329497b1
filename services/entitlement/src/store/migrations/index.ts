import type { Migration } from "@tailor/db";
import { createOrganizations } from "./2026-11-27T2100-create-organizations.js";
import { addCustomAssembly } from "./2026-11-27T2340-add-custom-assembly.js";
import { createPurchasesAndGrants } from "./2026-11-27T2341-create-purchases-and-grants.js";
import { createIdentitiesAndApiKeys } from "./2026-11-27T2342-create-identities-and-api-keys.js";
import { createTokenSigningKeys } from "./2026-11-27T2343-create-token-signing-keys.js";
import { createEventOutbox } from "./2026-11-28T0005-event-outbox.js";
import { addUniqueTags } from "./2026-11-28T0120-add-unique-tags.js";

/**
 * Migrations of the `entitlement` schema, applied in name order at start.
 * Names are timestamps so they sort in creation order; never rename one.
 */
export const migrations: Record<string, Migration> = {
  "2026-11-27T2100-create-organizations": createOrganizations,
  "2026-11-27T2340-add-custom-assembly": addCustomAssembly,
  "2026-11-27T2341-create-purchases-and-grants": createPurchasesAndGrants,
  "2026-11-27T2342-create-identities-and-api-keys": createIdentitiesAndApiKeys,
  "2026-11-27T2343-create-token-signing-keys": createTokenSigningKeys,
  "2026-11-28T0005-event-outbox": createEventOutbox,
  "2026-11-28T0120-add-unique-tags": addUniqueTags,
};
