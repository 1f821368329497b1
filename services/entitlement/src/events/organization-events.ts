import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { events } from "@tailor/bus";
import type { Transaction } from "@tailor/db";
import { enqueueEvent } from "@tailor/outbox";
import type { Organization } from "../organizations/organization.js";
import type { EntitlementDatabase } from "../store/entitlement-database.js";

/**
 * Queues `tailor.entitlement.org.created` in the transaction that creates the
 * organization (the outbox relay publishes it after commit). The message id
 * is derived from the organization id, so a retried publish is de-duplicated
 * by JetStream.
 */
export async function enqueueOrganizationCreated(
  trx: Transaction<EntitlementDatabase>,
  organization: Organization,
): Promise<void> {
  await enqueueEvent(
    trx,
    events.organizationCreated,
    {
      orgId: organization.id,
      name: organization.name,
      occurredAt: timestampFromDate(organization.createdAt),
    },
    `org.created:${organization.id}`,
  );
}
