import type { Principal } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import type { Bus } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { HandlerContext } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { OutboxRelay } from "@tailor/outbox";
import type { entitlementV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { CatalogConfig } from "./config.js";
import type { CatalogDatabase } from "./store/catalog-database.js";

/** Everything the catalog's handlers and background work use, built once at start. */
export interface CatalogDependencies {
  readonly db: Kysely<CatalogDatabase>;
  readonly bus: Bus;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly config: CatalogConfig;
  /** Publishes the events waiting in the catalog's outbox (`event_outbox`). */
  readonly events: OutboxRelay;
  /** The entitlement service; calls made for a caller forward its token (see `callerMetadata`). */
  readonly entitlement: ServiceClient<typeof entitlementV1.EntitlementService>;
  /** Verifies the caller's `api` token; UNAUTHENTICATED when missing or invalid. */
  authenticate(ctx: Pick<HandlerContext, "metadata">): Promise<Principal>;
  /** Metadata that forwards the caller's own credentials on a call to another service. */
  callerMetadata(ctx: Pick<HandlerContext, "metadata">): Record<string, string>;
  /** Time source, injectable for tests. */
  now(): Date;
}
