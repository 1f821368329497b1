import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import type { Environment, PlatformConfig } from "@tailor/config";
import { grpcAddressVariable, loadPlatformConfig, SERVICE_NAMES } from "@tailor/config";
import type { Database } from "@tailor/db";
import { sql } from "@tailor/db";
import { Code, createHealthClient, TailorError } from "@tailor/grpc";
import type { Logger } from "@tailor/log";
import type { RunningService, ServiceClients, ServiceDefinition } from "@tailor/service";
import { createProcessDependencies, createServiceClients, startService } from "@tailor/service";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./free-port.js";
import { startNodeProcess } from "./node-process.js";
import { createTestDatabase } from "./test-database.js";
import { testLogger } from "./test-logger.js";
import type { TestNats } from "./test-nats.js";
import { createTestNats } from "./test-nats.js";
import { createTestPglite } from "./test-pglite.js";
import { waitFor } from "./wait-for.js";

/** A service started for a test, with clients that dial it like another service would. */
export interface TestService {
  readonly running: RunningService;
  /** Configuration in force: every service address is a distinct free port. */
  readonly config: PlatformConfig;
  /** The client factory a peer service would use, dialing `config`'s addresses. */
  readonly clients: ServiceClients;
  /** Stops the service and closes the clients (the database and NATS stay). */
  stop(): Promise<void>;
}

/**
 * Configuration for tests: every service on its own free port on 127.0.0.1,
 * NATS at `nats` with its unique namespace, short deadlines and grace.
 */
export async function testPlatformConfig(
  nats: TestNats,
  environment: Environment = {},
): Promise<PlatformConfig> {
  const addresses: Record<string, string> = {};
  for (const name of SERVICE_NAMES) {
    addresses[grpcAddressVariable(name)] = `127.0.0.1:${await freePort()}`;
  }
  return loadPlatformConfig({
    NATS_URL: nats.url,
    TAILOR_NATS_NAMESPACE: nats.namespace,
    TAILOR_HTTP_PORT: "0",
    TAILOR_GRPC_DEADLINE_MS: "3000",
    TAILOR_SHUTDOWN_GRACE_MS: "500",
    ...addresses,
    ...environment,
  });
}

/** Starts one service definition on a test database and NATS namespace. */
export async function startTestService(
  definition: ServiceDefinition,
  options: { database: Database; nats: TestNats; config?: PlatformConfig; logger?: Logger },
): Promise<TestService> {
  const logger = options.logger ?? testLogger();
  const config = options.config ?? (await testPlatformConfig(options.nats));
  const deps = await createProcessDependencies(config, logger, {
    processName: definition.name,
    natsUrl: options.nats.url,
    database: options.database,
  });
  const running = await startService(definition, deps);
  const clients = createServiceClients(config, logger);
  return {
    running,
    config,
    clients,
    async stop() {
      clients.close();
      await running.stop();
    },
  };
}

/**
 * The behaviour every Tailor service shares, as a test suite: it starts on
 * Postgres and on PGlite, migrates its own schema, answers the standard gRPC
 * health check and GetServiceInfo, and stops cleanly.
 */
export function describeServiceBasics(
  definition: ServiceDefinition,
  service: DescService,
  options: {
    /** The service's built `dist/main.js`: also run it as its own process, as in production. */
    mainScript?: URL;
  } = {},
): void {
  describe(`${definition.name} service basics`, () => {
    let nats: TestNats;
    let pg: Awaited<ReturnType<typeof createTestDatabase>>;
    let started: TestService;

    beforeAll(async () => {
      nats = await createTestNats();
      pg = await createTestDatabase();
      started = await startTestService(definition, { database: pg.database, nats });
    });

    afterAll(async () => {
      await started?.stop();
      await pg?.cleanup();
      await nats?.cleanup();
    });

    it("answers the standard gRPC health check as SERVING", async () => {
      const health = createHealthClient(started.running.address);
      try {
        expect(await health.check("")).toBe("SERVING");
        expect(await health.check(service.typeName)).toBe("SERVING");
        expect(await health.check("tailor.nothing.v1.Nope")).toBe("SERVICE_UNKNOWN");
      } finally {
        health.close();
      }
    });

    it("says who it is over typed gRPC", async () => {
      const client = started.clients.get(definition.name, service) as unknown as {
        getServiceInfo(request: object): Promise<{ info?: { name: string; version: string } }>;
      };
      const response = await client.getServiceInfo({});
      expect(response.info?.name).toBe(definition.name);
      expect(response.info?.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    it("creates its own schema with its migration table", async () => {
      if (definition.schema === undefined) return;
      const rows = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = ${definition.schema}`.execute(
        pg.database.forSchema(definition.schema),
      );
      expect(rows.rows.map((r) => r.table_name)).toContain("kysely_migration");
    });

    it.runIf(options.mainScript !== undefined)(
      "runs as its own process on Postgres and exits 0 on SIGTERM",
      async () => {
        const script = fileURLToPath(options.mainScript ?? "");
        const address = `127.0.0.1:${await freePort()}`;
        const child = startNodeProcess(script, {
          DATABASE_URL: pg.url,
          NATS_URL: nats.url,
          TAILOR_NATS_NAMESPACE: nats.namespace,
          [grpcAddressVariable(definition.name)]: address,
          TAILOR_HTTP_PORT: "0",
          TAILOR_LOG_LEVEL: "warn",
          TAILOR_LOG_FORMAT: "json",
        });
        const health = createHealthClient(address, { defaultDeadlineMs: 500 });
        try {
          await waitFor(async () => (await health.check("").catch(() => undefined)) === "SERVING", {
            timeoutMs: 20_000,
            message: `${definition.name} did not serve at ${address}`,
          }).catch((error: unknown) => {
            throw new Error(`${(error as Error).message}\n${child.output()}`);
          });
          const stopped = await child.terminate();
          expect(stopped.code, child.output()).toBe(0);
          expect(stopped.ms).toBeLessThan(5000);
        } finally {
          health.close();
          child.kill();
        }
      },
    );

    it("starts on embedded PGlite too, and stops so that its port no longer answers", async () => {
      const lite = await createTestPglite();
      try {
        const embedded = await startTestService(definition, { database: lite.database, nats });
        const health = createHealthClient(embedded.running.address, { defaultDeadlineMs: 1000 });
        expect(await health.check("")).toBe("SERVING");
        await embedded.stop();
        const after = await health.check("").catch((error: unknown) => TailorError.from(error));
        expect(after).toBeInstanceOf(TailorError);
        expect((after as TailorError).code).toBe(Code.UNAVAILABLE);
        health.close();
      } finally {
        await lite.cleanup();
      }
    });
  });
}
