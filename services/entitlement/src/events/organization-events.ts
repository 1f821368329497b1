import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@tailor/bus";
import { events } from "@tailor/bus";
import type { Organization } from "../organizations/organization.js";

/**
 * Announces a new organization on `tailor.entitlement.org.created`. The
 * message id is derived from the organization id, so a retried publish is
 * de-duplicated by JetStream.
 */
export async function publishOrganizationCreated(
  bus: Bus,
  organization: Organization,
): Promise<void> {
  await bus.publish(
    events.organizationCreated,
    {
      orgId: organization.id,
      name: organization.name,
      occurredAt: timestampFromDate(organization.createdAt),
    },
    { msgID: `org.created:${organization.id}` },
  );
}
