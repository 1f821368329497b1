import type { Principal } from "@tailor/auth";
import type { Bus } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { HandlerContext } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { OutboxRelay } from "@tailor/outbox";
import type { EntitlementDatabase } from "./store/entitlement-database.js";
import type { TokenKeyring } from "./tokens/token-keyring.js";

/** Everything the entitlement service's handlers use, built once at start. */
export interface EntitlementDependencies {
  readonly db: Kysely<EntitlementDatabase>;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Publishes the events waiting in the service's outbox (`event_outbox`). */
  readonly events: OutboxRelay;
  /** Signs and verifies tokens with the keys stored in the schema. */
  readonly tokens: TokenKeyring;
  /**
   * Verifies the caller's `api` token with the service's own keys and
   * answers with its identity's current role; UNAUTHENTICATED when the token
   * is missing or invalid or its identity was deleted.
   */
  authenticate(ctx: Pick<HandlerContext, "metadata">): Promise<Principal>;
  /** Time source, injectable for tests. */
  now(): Date;
}
