import type { Environment } from "@tailor/config";
import { createOutboxRelay } from "@tailor/outbox";
import { entitlementV1 } from "@tailor/proto";
import type { ServiceDefinition } from "@tailor/service";
import { databaseOf, serviceInfo } from "@tailor/service";
import { ensureBootstrapAdministrator, SERVICE_ADMINISTRATOR } from "./bootstrap-admin.js";
import { loadEntitlementConfig } from "./config.js";
import type { EntitlementDependencies } from "./entitlement-dependencies.js";
import { authenticateCaller } from "./handlers/authenticate-caller.js";
import { createIdentityHandlers } from "./handlers/identity-handlers.js";
import { createOrganizationHandlers } from "./handlers/organization-handlers.js";
import { createPurchaseHandlers } from "./handlers/purchase-handlers.js";
import { createTokenHandlers } from "./handlers/token-handlers.js";
import type { EntitlementDatabase } from "./store/entitlement-database.js";
import { migrations } from "./store/migrations/index.js";
import { createTokenKeyring } from "./tokens/token-keyring.js";

/** How often events a failed publish left in the outbox are retried. */
const OUTBOX_RETRY_MS = 30_000;

/** What tests and the all-in-one launcher may supply instead of the defaults. */
export interface EntitlementServiceOptions {
  /** Where TAILOR_BOOTSTRAP_ADMIN_KEY and TAILOR_SERVICE_API_KEY are read. @default process.env */
  readonly environment?: Environment;
  /** Clock of token lifetimes, key expiry and timestamps. @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Builds the entitlement service: organizations, what each bought and was
 * granted, identities, API keys, and the tokens every other service verifies.
 */
export function createEntitlementService(
  options: EntitlementServiceOptions = {},
): ServiceDefinition {
  return {
    name: "entitlement",
    schema: "entitlement",
    migrations,
    async start(context) {
      const config = loadEntitlementConfig(options.environment ?? process.env);
      const now = options.now ?? (() => new Date());
      const db = databaseOf<EntitlementDatabase>(context);
      const tokens = createTokenKeyring(db, now);
      const signingKey = await tokens.ensureCurrentKey();
      context.logger.debug({ keyId: signingKey.id }, "token signing key ready");
      if (config.bootstrapAdminKey !== undefined) {
        await ensureBootstrapAdministrator(db, config.bootstrapAdminKey, {
          now: now(),
          logger: context.logger,
        });
      }
      if (config.serviceApiKey !== undefined) {
        await ensureBootstrapAdministrator(db, config.serviceApiKey, {
          now: now(),
          logger: context.logger,
          identity: SERVICE_ADMINISTRATOR,
        });
      }
      const deps: EntitlementDependencies = {
        db,
        bus: context.bus,
        logger: context.logger,
        events: createOutboxRelay({ db, bus: context.bus, logger: context.logger }),
        tokens,
        authenticate: (ctx) => authenticateCaller(db, tokens, ctx),
        now,
      };
      context.grpc.add(entitlementV1.EntitlementService, {
        getServiceInfo: () => ({ info: serviceInfo("entitlement") }),
        ...createOrganizationHandlers(deps),
        ...createPurchaseHandlers(deps),
        ...createIdentityHandlers(deps),
        ...createTokenHandlers(deps),
      });
      const outbox = deps.events.start(OUTBOX_RETRY_MS);
      return {
        async stop() {
          await outbox.stop();
        },
      };
    },
  };
}

/** The entitlement service with its defaults (environment from process.env). */
export const entitlementService: ServiceDefinition = createEntitlementService();
