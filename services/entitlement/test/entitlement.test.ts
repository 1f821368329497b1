// Integration tests of the entitlement service against the real Postgres and
// NATS: a second "service" calls it over gRPC and consumes its events.
import { randomUUID } from "node:crypto";
import type { Bus, DeadLetter } from "@tailor/bus";
import { connectBus, defineConsumer, events } from "@tailor/bus";
import type { PlatformConfig } from "@tailor/config";
import { loadPlatformConfig } from "@tailor/config";
import type { Database } from "@tailor/db";
import { sql } from "@tailor/db";
import { Code, TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { RunningService, ServiceClients } from "@tailor/service";
import { createProcessDependencies, createServiceClients, startService } from "@tailor/service";
import {
  createTestDatabase,
  createTestNats,
  createTestPglite,
  freePort,
  testLogger,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entitlementService } from "../src/index.js";

const logger = testLogger();

async function testConfig(namespace: string, natsUrl: string): Promise<PlatformConfig> {
  return loadPlatformConfig({
    NATS_URL: natsUrl,
    TAILOR_NATS_NAMESPACE: namespace,
    TAILOR_ENTITLEMENT_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    TAILOR_GRPC_DEADLINE_MS: "3000",
    TAILOR_SHUTDOWN_GRACE_MS: "500",
  });
}

async function startEntitlement(config: PlatformConfig, database: Database, natsUrl: string) {
  const deps = await createProcessDependencies(config, logger, {
    processName: "entitlement",
    natsUrl,
    database,
  });
  return startService(entitlementService, deps);
}

async function expectTailorError(promise: Promise<unknown>): Promise<TailorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TailorError);
  return error as TailorError;
}

describe("entitlement service on Postgres", () => {
  let nats: Awaited<ReturnType<typeof createTestNats>>;
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let config: PlatformConfig;
  let service: RunningService;
  let clients: ServiceClients;
  let catalogBus: Bus;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    config = await testConfig(nats.namespace, nats.url);
    service = await startEntitlement(config, pg.database, nats.url);
    // The caller is another service: it uses the same client factory a service gets.
    clients = createServiceClients(config, logger);
    catalogBus = await connectBus({
      servers: nats.url,
      name: "catalog",
      logger,
      namespace: nats.namespace,
    });
  });

  afterAll(async () => {
    clients?.close();
    await catalogBus?.close();
    await service?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
  });

  it("applies its migrations inside its own schema", async () => {
    const db = pg.database.forSchema<unknown>("entitlement");
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = 'entitlement' order by table_name`.execute(db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(["kysely_migration", "organizations"]),
    );
    const applied = await pg.database.migrate("entitlement", entitlementService.migrations ?? {});
    expect(applied.applied).toEqual([]);
  });

  it("creates and reads an organization over typed gRPC with a deadline", async () => {
    const entitlement = clients.get("entitlement", entitlementV1.EntitlementService);
    const created = await entitlement.createOrganization(
      { name: "acme", displayName: "ACME Corp" },
      { deadlineMs: 2000 },
    );
    expect(created.organization?.name).toBe("acme");
    expect(created.organization?.id).toMatch(/^[0-9a-f-]{36}$/);
    const read = await entitlement.getOrganization(
      { id: created.organization?.id ?? "" },
      { deadlineMs: 2000 },
    );
    expect(read.organization?.displayName).toBe("ACME Corp");
    expect(read.organization?.createdAt).toBeDefined();
  });

  it("reports domain errors with their status code, message and field", async () => {
    const entitlement = clients.get("entitlement", entitlementV1.EntitlementService);
    const id = randomUUID();
    const notFound = await expectTailorError(entitlement.getOrganization({ id }));
    expect(notFound.code).toBe(Code.NOT_FOUND);
    expect(notFound.message).toContain(`organization "${id}" not found`);
    expect(notFound.field).toBe("id");
    expect(notFound.reason).toBe("organization_not_found");

    await entitlement.createOrganization({ name: "globex" });
    const taken = await expectTailorError(entitlement.createOrganization({ name: "globex" }));
    expect(taken.code).toBe(Code.ALREADY_EXISTS);
    expect(taken.message).toContain('organization name "globex" is already taken');

    const invalid = await expectTailorError(entitlement.createOrganization({ name: "Bad Name!" }));
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.field).toBe("name");
    expect(invalid.message).toContain('"Bad Name!"');
  });

  it("publishes organization events another service consumes, redelivers after nak, de-duplicates and dead-letters", async () => {
    const entitlement = clients.get("entitlement", entitlementV1.EntitlementService);
    const consumer = defineConsumer({
      name: "catalog-orgs",
      stream: "EVENTS",
      filter: "entitlement.org.created",
      events: [events.organizationCreated],
      ackWaitMs: 2000,
      maxDeliver: 2,
      maxAckPending: 10,
      description: "test: catalog reacting to new organizations",
    });
    const deadLetters: DeadLetter[] = [];
    const unsubscribe = catalogBus.deadLetters.on((dl) => deadLetters.push(dl));
    const abort = new AbortController();
    const iterator = catalogBus.consume(consumer, { signal: abort.signal })[Symbol.asyncIterator]();

    // Organizations created by earlier tests come first; acknowledge them.
    const nextAbout = async (id: string) => {
      for (;;) {
        const delivery = (await iterator.next()).value;
        if (delivery.message.orgId === id) return delivery;
        await delivery.ack();
      }
    };
    const first = await entitlement.createOrganization({ name: "initech" });
    const orgId = first.organization?.id ?? "";

    // Delivered, nak'ed with a delay, redelivered.
    const d1 = await nextAbout(orgId);
    expect(d1.message.orgId).toBe(orgId);
    expect(d1.message.name).toBe("initech");
    expect(d1.msgID).toBe(`org.created:${orgId}`);
    expect(d1.deliveryCount).toBe(1);
    const nakAt = Date.now();
    d1.nak(300);
    const d2 = (await iterator.next()).value;
    expect(d2.message.orgId).toBe(orgId);
    expect(d2.deliveryCount).toBe(2);
    expect(Date.now() - nakAt).toBeGreaterThanOrEqual(250);
    await d2.ack();

    // A retried publish with the same message id is dropped by JetStream.
    const replay = await catalogBus.publish(
      events.organizationCreated,
      { orgId, name: "initech" },
      { msgID: `org.created:${orgId}` },
    );
    expect(replay.duplicate).toBe(true);

    // The next message the consumer sees is the next organization, not the replay;
    // failing it maxDeliver times sends it to the dead-letter stream.
    const second = await entitlement.createOrganization({ name: "umbrella" });
    const secondId = second.organization?.id ?? "";
    const f1 = await nextAbout(secondId);
    expect(f1.message.orgId).toBe(secondId);
    f1.nak(0);
    const f2 = (await iterator.next()).value;
    expect(f2.message.orgId).toBe(secondId);
    expect(f2.deliveryCount).toBe(2);
    f2.nak(0);
    await waitFor(() => deadLetters.length > 0, { timeoutMs: 10_000, message: "no dead letter" });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ consumer: "catalog-orgs", deliveries: 2 });
    const stored = await catalogBus.readDeadLetters("catalog-orgs");
    expect(stored.map((d) => d.msgID)).toEqual([`org.created:${secondId}`]);
    expect(deadLetters[0]?.msgID).toBe(`org.created:${secondId}`);
    unsubscribe();
    abort.abort();
    await iterator.return?.();
  });
});

describe("entitlement service on PGlite", () => {
  it("migrates the embedded database and keeps organizations across a restart", async () => {
    const nats = await createTestNats();
    const lite = await createTestPglite({ logger });
    const config = await testConfig(nats.namespace, nats.url);
    try {
      const first = await startEntitlement(config, lite.database, nats.url);
      const clients = createServiceClients(config, logger);
      const entitlement = clients.get("entitlement", entitlementV1.EntitlementService);
      const created = await entitlement.createOrganization({ name: "hooli" });
      clients.close();
      await first.stop();

      const second = await startEntitlement(config, lite.database, nats.url);
      const again = createServiceClients(config, logger);
      const read = await again
        .get("entitlement", entitlementV1.EntitlementService)
        .getOrganization({ id: created.organization?.id ?? "" });
      expect(read.organization?.name).toBe("hooli");
      again.close();
      await second.stop();
    } finally {
      await lite.cleanup();
      await nats.cleanup();
    }
  });
});
