import { entitlementV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf } from "@tailor/service";
import { createEntitlementHandlers } from "./handlers/organization-handlers.js";
import { migrations } from "./store/migrations/index.js";
import type { EntitlementDatabase } from "./store/organizations.table.js";

/** Entitlement: organizations, what each bought and was granted, API keys and tokens. */
export const entitlementService: ServiceDefinition = {
  name: "entitlement",
  schema: "entitlement",
  migrations,
  start(context) {
    const db = databaseOf<EntitlementDatabase>(context);
    context.grpc.add(entitlementV1.EntitlementService, createEntitlementHandlers(db, context.bus));
    return {};
  },
};
