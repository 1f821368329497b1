import type { BlobStore } from "@tailor/blob";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import type { builderV1, catalogV1, entitlementV1, historyV1, resolverV1 } from "@tailor/proto";
import type { ServiceClient } from "@tailor/service";
import type { FastifyRequest } from "fastify";
import type { ApkRepositoryKeys } from "./apk/repository-keys.js";
import type { RequestAuthenticator } from "./auth/request-credentials.js";
import type { GatewayConfig } from "./config.js";
import type { GatewayDatabase } from "./store/gateway-database.js";

/** Thrown when the gateway must act as itself but has no TAILOR_SERVICE_API_KEY; answered 503. */
export class ServiceCredentialsMissingError extends Error {
  constructor() {
    super("the gateway has no service credentials (TAILOR_SERVICE_API_KEY is not set)");
    this.name = "ServiceCredentialsMissingError";
  }
}

/** Everything the gateway's routes use, built once at start. */
export interface GatewayDependencies {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly db: Kysely<GatewayDatabase>;
  /** Organizations' APK repository signing keys (created on first use, rotated by age). */
  readonly apkKeys: ApkRepositoryKeys;
  /** The shared blob store: image blobs and package bytes are streamed from it. */
  readonly blobs: BlobStore;
  readonly entitlement: ServiceClient<typeof entitlementV1.EntitlementService>;
  readonly catalog: ServiceClient<typeof catalogV1.CatalogService>;
  readonly resolver: ServiceClient<typeof resolverV1.ResolverService>;
  readonly builder: ServiceClient<typeof builderV1.BuilderService>;
  readonly registry: ServiceClient<typeof builderV1.RegistryService>;
  readonly history: ServiceClient<typeof historyV1.BuildHistoryService>;
  /** API keys and tokens → principals; failure counting per credential and client address. */
  readonly auth: RequestAuthenticator;
  /** gRPC metadata of a call made on behalf of the caller: their token and the request id. */
  callerMetadata(request: FastifyRequest, token: string): Record<string, string>;
  /**
   * gRPC metadata of a call the gateway makes as itself (after checking the
   * caller's own rights): the service identity's token and the request id.
   * @throws ServiceCredentialsMissingError when TAILOR_SERVICE_API_KEY is unset.
   */
  serviceMetadata(request: FastifyRequest): Promise<Record<string, string>>;
  /** Base URL clients reach the gateway at, without a trailing slash. */
  publicUrl(request: FastifyRequest): string;
  now(): Date;
}
