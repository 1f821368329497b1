import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Bus } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { ServiceImpl } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import { serviceInfo } from "@tailor/service";
import { publishOrganizationCreated } from "../events/organization-events.js";
import {
  InvalidFieldError,
  OrganizationNameTakenError,
  OrganizationNotFoundError,
} from "../organizations/errors.js";
import type { Organization } from "../organizations/organization.js";
import { isUuid, isValidOrganizationName } from "../organizations/organization.js";
import { findOrganization, insertOrganization } from "../store/organization-store.js";
import type { EntitlementDatabase } from "../store/organizations.table.js";

function toMessage(organization: Organization) {
  return {
    id: organization.id,
    name: organization.name,
    displayName: organization.displayName,
    createdAt: timestampFromDate(organization.createdAt),
  };
}

/** The handler edge: maps domain errors to gRPC status codes, nothing else does. */
function toStatus(error: unknown): unknown {
  if (error instanceof OrganizationNotFoundError) {
    return new TailorError(Code.NOT_FOUND, error.message, {
      reason: "organization_not_found",
      field: "id",
      metadata: { id: error.id },
      cause: error,
    });
  }
  if (error instanceof OrganizationNameTakenError) {
    return new TailorError(Code.ALREADY_EXISTS, error.message, {
      reason: "organization_name_taken",
      field: "name",
      metadata: { name: error.organizationName },
      cause: error,
    });
  }
  if (error instanceof InvalidFieldError) {
    return new TailorError(Code.INVALID_ARGUMENT, error.message, {
      reason: "invalid_field",
      field: error.field,
      cause: error,
    });
  }
  return error;
}

async function mapErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toStatus(error);
  }
}

/** gRPC handlers of tailor.entitlement.v1.EntitlementService. */
export function createEntitlementHandlers(
  db: Kysely<EntitlementDatabase>,
  bus: Bus,
): ServiceImpl<typeof entitlementV1.EntitlementService> {
  return {
    getServiceInfo: () => ({ info: serviceInfo("entitlement") }),

    createOrganization: (request) =>
      mapErrors(async () => {
        const name = request.name.trim();
        if (!isValidOrganizationName(name)) {
          throw new InvalidFieldError(
            "name",
            `organization name "${request.name}" is invalid: use 2 to 63 lowercase letters, digits and single dashes`,
          );
        }
        const displayName = request.displayName.trim() === "" ? name : request.displayName.trim();
        // Insert and publish in one transaction: if NATS refuses the event the
        // row is rolled back, so no organization exists without its event.
        const organization = await db.transaction().execute(async (trx) => {
          const created = await insertOrganization(trx, { id: randomUUID(), name, displayName });
          await publishOrganizationCreated(bus, created);
          return created;
        });
        return { organization: toMessage(organization) };
      }),

    getOrganization: (request) =>
      mapErrors(async () => {
        if (!isUuid(request.id)) {
          throw new InvalidFieldError("id", `organization id "${request.id}" is not a UUID`);
        }
        const organization = await findOrganization(db, request.id);
        if (organization === undefined) throw new OrganizationNotFoundError(request.id);
        return { organization: toMessage(organization) };
      }),
  };
}
