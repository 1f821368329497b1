// Shared setup of the entitlement integration tests: the service on a real
// database and NATS, called over real gRPC like any other service would.
import type { Audience } from "@tailor/auth";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { Environment, PlatformConfig } from "@tailor/config";
import type { Database } from "@tailor/db";
import type { CallOptions, Client } from "@tailor/grpc";
import { TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testLogger,
  testPlatformConfig,
} from "@tailor/testing";
import { expect } from "vitest";
import { createEntitlementService } from "../src/index.js";

/** The typed gRPC client of the entitlement service. */
export type EntitlementClient = Client<typeof entitlementV1.EntitlementService>;

/** A clock tests move forward to expire tokens and keys. */
export interface TestClock {
  offsetMs: number;
  now(): Date;
}

/** Creates a clock that runs with the real one, shifted by `offsetMs`. */
export function createTestClock(): TestClock {
  const clock: TestClock = {
    offsetMs: 0,
    now: () => new Date(Date.now() + clock.offsetMs),
  };
  return clock;
}

/** One running entitlement service and the means to call it. */
export interface RunningEntitlement {
  readonly service: TestService;
  readonly client: EntitlementClient;
  /** The TAILOR_BOOTSTRAP_ADMIN_KEY it was started with. */
  readonly adminKey: string;
  stop(): Promise<void>;
}

/** Starts the entitlement service on `database` with a bootstrap administrator key. */
export async function startEntitlement(options: {
  database: Database;
  nats: TestNats;
  config?: PlatformConfig;
  adminKey?: string;
  environment?: Environment;
  clock?: TestClock;
}): Promise<RunningEntitlement> {
  const adminKey = options.adminKey ?? generateApiKey().credential;
  const config = options.config ?? (await testPlatformConfig(options.nats));
  const definition = createEntitlementService({
    environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, ...options.environment },
    ...(options.clock === undefined ? {} : { now: options.clock.now }),
  });
  const service = await startTestService(definition, {
    database: options.database,
    nats: options.nats,
    config,
    logger: testLogger(),
  });
  const client = service.clients.get("entitlement", entitlementV1.EntitlementService);
  return { service, client, adminKey, stop: () => service.stop() };
}

const AUDIENCES: Record<Audience, entitlementV1.Audience> = {
  api: entitlementV1.Audience.API,
  registry: entitlementV1.Audience.REGISTRY,
  apk: entitlementV1.Audience.APK,
};

/** Exchanges an API key for a token of `audience`. */
export async function tokenFor(
  client: EntitlementClient,
  apiKey: string,
  audience: Audience = "api",
): Promise<string> {
  const response = await client.issueToken({ apiKey, audience: AUDIENCES[audience] });
  return response.token;
}

/** Call options that authenticate with `token`. */
export function as(token: string): CallOptions {
  return { metadata: authorizationMetadata(token) };
}

/** A member of an organization, with an API key and an `api` token. */
export interface Member {
  readonly identity: entitlementV1.Identity;
  readonly apiKey: string;
  readonly token: string;
  readonly call: CallOptions;
}

/** Creates an identity with `role` in `orgId` (as `adminCall`), gives it an API key and a token. */
export async function createMember(
  client: EntitlementClient,
  adminCall: CallOptions,
  orgId: string,
  name: string,
  role: entitlementV1.Role,
): Promise<Member> {
  const { identity } = await client.createIdentity({ orgId, name, role }, adminCall);
  if (identity === undefined) throw new Error("CreateIdentity returned no identity");
  const { secret } = await client.createApiKey({ identityId: identity.id }, adminCall);
  const token = await tokenFor(client, secret);
  return { identity, apiKey: secret, token, call: as(token) };
}

/** The TailorError a call fails with; fails the test when it succeeds. */
export async function failureOf(promise: Promise<unknown>): Promise<TailorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the call should have failed").toBeInstanceOf(TailorError);
  return error as TailorError;
}

/** The service on fresh Postgres and NATS, signed in as its administrator, with organization "acme". */
export interface StartedWithOrganization {
  readonly nats: TestNats;
  readonly pg: TestDatabase;
  readonly running: RunningEntitlement;
  readonly client: EntitlementClient;
  /** The administrator's `api` token. */
  readonly adminToken: string;
  /** Call options carrying {@link adminToken}. */
  readonly admin: CallOptions;
  /** Id of organization "acme". */
  readonly orgId: string;
  /** Stops the service, drops the database and the NATS namespace. */
  stop(): Promise<void>;
}

/** The setup most entitlement test files share: see {@link StartedWithOrganization}. */
export async function startWithOrganization(
  options: { clock?: TestClock; displayName?: string } = {},
): Promise<StartedWithOrganization> {
  const nats = await createTestNats();
  const pg = await createTestDatabase();
  const running = await startEntitlement({
    database: pg.database,
    nats,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const client = running.client;
  const adminToken = await tokenFor(client, running.adminKey);
  const admin = as(adminToken);
  const created = await client.createOrganization(
    {
      name: "acme",
      ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
    },
    admin,
  );
  return {
    nats,
    pg,
    running,
    client,
    adminToken,
    admin,
    orgId: created.organization?.id ?? "",
    async stop() {
      await running.stop();
      await pg.cleanup();
      await nats.cleanup();
    },
  };
}
