import type { Principal } from "@tailor/auth";
import type { HandlerContext } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { catalogV1, entitlementV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { ResolverMetrics } from "./resolver-metrics.js";
import type { PackageFileCache } from "./source-images/package-file-cache.js";
import type { SourceImageCache } from "./source-images/source-image-cache.js";
import type { PackageUniverse } from "./universe/package-universe.js";
import type { UniverseLoader } from "./universe/universe-loader.js";

/** Everything the resolver's handlers and event consumer use, built once at start. */
export interface ResolverDependencies {
  readonly universe: PackageUniverse;
  readonly loader: UniverseLoader;
  readonly catalog: ServiceClient<typeof catalogV1.CatalogService>;
  readonly entitlement: ServiceClient<typeof entitlementV1.EntitlementService>;
  readonly sourceImages: SourceImageCache;
  readonly packageFiles: PackageFileCache;
  readonly metrics: ResolverMetrics;
  readonly logger: Logger;
  /** Verifies the caller's `api` token; UNAUTHENTICATED when missing or invalid. */
  authenticate(ctx: Pick<HandlerContext, "metadata">): Promise<Principal>;
  /** Metadata that forwards the caller's own credentials on a call to another service. */
  callerMetadata(ctx: Pick<HandlerContext, "metadata">): Record<string, string>;
  /** Metadata of the resolver's own credential (TAILOR_SERVICE_API_KEY). */
  serviceMetadata(): Promise<Record<string, string>>;
}
