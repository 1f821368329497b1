import type { Principal } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import type { Bus } from "@tailor/bus";
import type { Kysely } from "@tailor/db";
import type { HandlerContext } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { OutboxRelay } from "@tailor/outbox";
import type { catalogV1, entitlementV1, gatewayV1, resolverV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { BuilderConfig } from "./config.js";
import type { BuilderDatabase } from "./store/builder-database.js";

/** Everything the builder's handlers, workers and planner use, built once at start. */
export interface BuilderDependencies {
  readonly db: Kysely<BuilderDatabase>;
  readonly bus: Bus;
  /** Packages (read), layers, configs, SBOMs, manifests and indexes (written). */
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly config: BuilderConfig;
  /** Publishes the events and jobs waiting in the builder's outbox (`event_outbox`). */
  readonly events: OutboxRelay;
  readonly catalog: ServiceClient<typeof catalogV1.CatalogService>;
  readonly entitlement: ServiceClient<typeof entitlementV1.EntitlementService>;
  readonly resolver: ServiceClient<typeof resolverV1.ResolverService>;
  /** Public keys of organizations' private APK repositories (for -dev images). */
  readonly gateway: ServiceClient<typeof gatewayV1.GatewayService>;
  /** Verifies the caller's `api` token; UNAUTHENTICATED when missing or invalid. */
  authenticate(ctx: Pick<HandlerContext, "metadata">): Promise<Principal>;
  /** Metadata that forwards the caller's own credentials on a call to another service. */
  callerMetadata(ctx: Pick<HandlerContext, "metadata">): Record<string, string>;
  /** Metadata of the builder's own credential (TAILOR_SERVICE_API_KEY). */
  serviceMetadata(): Promise<Record<string, string>>;
  /** Time source, injectable for tests. */
  now(): Date;
}
