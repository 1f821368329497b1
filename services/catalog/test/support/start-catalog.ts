// Starts the catalog for a test the way production does (real Postgres or
// PGlite, real NATS, gRPC on a free port), with tokens minted by a test key
// instead of the entitlement service and blobs in a temporary directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Role, SigningKey } from "@tailor/auth";
import { createTokenSigner, generateSigningKey, staticKeySource } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore } from "@tailor/blob";
import type { Database, Kysely } from "@tailor/db";
import type { CallOptions, Client } from "@tailor/grpc";
import { createGrpcClient } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import type { TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  createTestPglite,
  startTestService,
  testLogger,
  testPlatformConfig,
} from "@tailor/testing";
import { createCatalogService } from "../../src/index.js";
import type { CatalogDatabase } from "../../src/store/catalog-database.js";

/** What {@link startCatalog} may reuse or change; everything omitted is created fresh. */
export interface StartCatalogOptions {
  /** Catalog variables (`TAILOR_CATALOG_*`); scheduled syncs are off unless set here. */
  readonly environment?: Readonly<Record<string, string>>;
  /** A database to reuse (a restart), or which kind to create. @default "postgres" */
  readonly database?: Database | "postgres" | "pglite";
  /** A NATS namespace to reuse. */
  readonly nats?: TestNats;
  /** A blob directory to reuse. */
  readonly blobDir?: string;
  /** The token signing key to reuse, so tokens of an earlier start stay valid. */
  readonly signingKey?: SigningKey;
  /** Clock of the service. */
  readonly now?: () => Date;
}

/** A catalog running for a test. */
export interface RunningCatalog {
  /** A client with a 2-minute default deadline; pass `auth(token)` (or `admin`) as call options. */
  readonly client: Client<typeof catalogV1.CatalogService>;
  /** A fresh `api` token of a platform administrator. */
  adminToken(): string;
  /** A fresh `api` token of a member of `orgId` with `role`. */
  memberToken(orgId: string, role: Role): string;
  /** Call options that authenticate with `token`. */
  auth(token: string): CallOptions;
  /** Call options of a platform administrator. */
  readonly admin: CallOptions;
  readonly service: TestService;
  readonly nats: TestNats;
  readonly database: Database;
  /** Kysely on the `catalog` schema, to look at what the service stored. */
  readonly db: Kysely<CatalogDatabase>;
  readonly blobs: BlobStore;
  readonly blobDir: string;
  readonly signingKey: SigningKey;
  /** Stops the service and removes what this start created (not what was passed in). */
  stop(): Promise<void>;
}

const logger = testLogger();

/** Starts the catalog service on real Postgres (or PGlite) and NATS. */
export async function startCatalog(options: StartCatalogOptions = {}): Promise<RunningCatalog> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const nats = options.nats ?? (await createTestNats());
    if (options.nats === undefined) cleanups.push(() => nats.cleanup());
    let database: Database;
    if (options.database === undefined || options.database === "postgres") {
      const pg = await createTestDatabase({ logger });
      cleanups.push(() => pg.cleanup());
      database = pg.database;
    } else if (options.database === "pglite") {
      const lite = await createTestPglite({ logger });
      cleanups.push(() => lite.cleanup());
      database = lite.database;
    } else {
      database = options.database;
    }
    const blobDir = options.blobDir ?? (await mkdtemp(join(tmpdir(), "tailor-catalog-blobs-")));
    if (options.blobDir === undefined)
      cleanups.push(() => rm(blobDir, { recursive: true, force: true }));
    const blobs = await createDirectoryBlobStore({ root: blobDir });
    const signingKey = options.signingKey ?? generateSigningKey();
    const definition = createCatalogService({
      tokenKeys: staticKeySource([{ id: signingKey.id, publicKeyPem: signingKey.publicKeyPem }]),
      blobs,
      environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0", ...options.environment },
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const config = await testPlatformConfig(nats);
    const service = await startTestService(definition, { database, nats, config, logger });
    cleanups.unshift(() => service.stop());
    const client = createGrpcClient(catalogV1.CatalogService, {
      address: service.running.address,
      logger,
      defaultDeadlineMs: 120_000,
    });
    cleanups.unshift(async () => client.close());
    const signer = createTokenSigner(signingKey);
    let stopping: Promise<void> | undefined;
    const auth = (token: string): CallOptions => ({
      metadata: { authorization: `Bearer ${token}` },
    });
    const adminToken = () =>
      signer.sign(
        { subject: "admin-1", subjectName: "Ada Admin", administrator: true },
        "api",
        3600,
      ).token;
    return {
      client,
      adminToken,
      memberToken: (orgId, role) =>
        signer.sign(
          {
            subject: `member-${role}`,
            subjectName: `Member ${role}`,
            orgId,
            orgName: "acme",
            role,
            administrator: false,
          },
          "api",
          3600,
        ).token,
      auth,
      admin: auth(adminToken()),
      service,
      nats,
      database,
      db: database.forSchema<CatalogDatabase>("catalog"),
      blobs,
      blobDir,
      signingKey,
      stop() {
        stopping ??= runAll(cleanups);
        return stopping;
      },
    };
  } catch (error) {
    await runAll(cleanups);
    throw error;
  }
}

async function runAll(steps: readonly (() => Promise<void>)[]): Promise<void> {
  let first: { error: unknown } | undefined;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first !== undefined) throw first.error;
}
