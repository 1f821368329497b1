// Integration tests of the entitlement service against the real Postgres and
// NATS: a second "service" calls it over gRPC and consumes its events.
import { randomUUID } from "node:crypto";
import type { Bus, DeadLetter } from "@tailor/bus";
import { connectBus, defineConsumer, events } from "@tailor/bus";
import type { PlatformConfig } from "@tailor/config";
import { sql } from "@tailor/db";
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import {
  createTestDatabase,
  createTestNats,
  createTestPglite,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entitlementService } from "../src/index.js";
import type { EntitlementClient, RunningEntitlement } from "./entitlement-harness.js";
import { as, createMember, failureOf, startEntitlement, tokenFor } from "./entitlement-harness.js";

const logger = testLogger();

describe("entitlement service on Postgres", () => {
  let nats: Awaited<ReturnType<typeof createTestNats>>;
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let config: PlatformConfig;
  let running: RunningEntitlement;
  let entitlement: EntitlementClient;
  let admin: CallOptions;
  let catalogBus: Bus;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    config = await testPlatformConfig(nats);
    running = await startEntitlement({ database: pg.database, nats, config });
    // The caller is another service: it uses the same client factory a service gets.
    entitlement = running.client;
    admin = as(await tokenFor(entitlement, running.adminKey));
    catalogBus = await connectBus({
      servers: nats.url,
      name: "catalog",
      logger,
      namespace: nats.namespace,
    });
  });

  afterAll(async () => {
    await catalogBus?.close();
    await running?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
  });

  it("applies its migrations inside its own schema", async () => {
    const db = pg.database.forSchema<unknown>("entitlement");
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = 'entitlement' order by table_name`.execute(db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        "api_keys",
        "identities",
        "kysely_migration",
        "organizations",
        "package_grants",
        "purchases",
        "token_signing_keys",
      ]),
    );
    const applied = await pg.database.migrate("entitlement", entitlementService.migrations ?? {});
    expect(applied.applied).toEqual([]);
  });

  it("refuses calls without a token, naming what to send", async () => {
    const error = await failureOf(entitlement.listOrganizations({}));
    expect(error.code).toBe(Code.UNAUTHENTICATED);
    expect(error.reason).toBe("missing_token");
    expect(error.message).toContain("authorization: Bearer <token>");
  });

  it("creates and reads an organization over typed gRPC with a deadline", async () => {
    const created = await entitlement.createOrganization(
      { name: "acme", displayName: "ACME Corp" },
      { ...admin, deadlineMs: 2000 },
    );
    expect(created.organization?.name).toBe("acme");
    expect(created.organization?.id).toMatch(/^[0-9a-f-]{36}$/);
    const read = await entitlement.getOrganization(
      { id: created.organization?.id ?? "" },
      { ...admin, deadlineMs: 2000 },
    );
    expect(read.organization?.displayName).toBe("ACME Corp");
    expect(read.organization?.createdAt).toBeDefined();
  });

  it("reports domain errors with their status code, message and field", async () => {
    const id = randomUUID();
    const notFound = await failureOf(entitlement.getOrganization({ id }, admin));
    expect(notFound.code).toBe(Code.NOT_FOUND);
    expect(notFound.message).toContain(`organization "${id}" not found`);
    expect(notFound.field).toBe("id");
    expect(notFound.reason).toBe("organization_not_found");

    await entitlement.createOrganization({ name: "globex" }, admin);
    const taken = await failureOf(entitlement.createOrganization({ name: "globex" }, admin));
    expect(taken.code).toBe(Code.ALREADY_EXISTS);
    expect(taken.message).toContain('organization name "globex" is already taken');

    const invalid = await failureOf(entitlement.createOrganization({ name: "Bad Name!" }, admin));
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.field).toBe("name");
    expect(invalid.message).toContain('"Bad Name!"');
  });

  it("publishes organization events another service consumes, redelivers after nak, de-duplicates and dead-letters", async () => {
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
    const first = await entitlement.createOrganization({ name: "initech" }, admin);
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
    const second = await entitlement.createOrganization({ name: "umbrella" }, admin);
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
  it("runs the basic flow on the embedded database and keeps organizations, keys and the administrator across a restart", async () => {
    const nats = await createTestNats();
    const lite = await createTestPglite({ logger });
    const config = await testPlatformConfig(nats);
    try {
      const first = await startEntitlement({ database: lite.database, nats, config });
      const client = first.client;
      const adminToken = await tokenFor(client, first.adminKey);
      const admin = as(adminToken);
      const created = await client.createOrganization({ name: "hooli" }, admin);
      const orgId = created.organization?.id ?? "";
      await client.setCustomAssembly(
        { orgId, enabled: true, customizableSourceImages: ["python"] },
        admin,
      );
      await client.addPurchase({ orgId, sourceImage: "python" }, admin);
      await client.grantPackage({ orgId, packageName: "curl", reason: "support" }, admin);
      const owner = await createMember(client, admin, orgId, "gavin", entitlementV1.Role.OWNER);
      const entitlements = await client.getEntitlements({ orgId }, owner.call);
      expect(entitlements.organization?.customAssemblyEnabled).toBe(true);
      expect(entitlements.purchases.map((p) => p.sourceImage)).toEqual(["python"]);
      expect(entitlements.packageGrants.map((g) => g.packageName)).toEqual(["curl"]);
      const registry = await tokenFor(client, owner.apiKey, "registry");
      const verified = await client.verifyToken({
        token: registry,
        audience: entitlementV1.Audience.REGISTRY,
      });
      expect(verified.claims?.orgName).toBe("hooli");
      expect(verified.claims?.role).toBe(entitlementV1.Role.OWNER);
      const adminClaims = await client.verifyToken({
        token: adminToken,
        audience: entitlementV1.Audience.API,
      });
      await first.stop();

      const second = await startEntitlement({
        database: lite.database,
        nats,
        config,
        adminKey: first.adminKey,
      });
      // Same signing key and administrator after the restart: old tokens and keys still work.
      const read = await second.client.getOrganization({ id: orgId }, admin);
      expect(read.organization?.name).toBe("hooli");
      const again = await tokenFor(second.client, first.adminKey);
      const claims = await second.client.verifyToken({
        token: again,
        audience: entitlementV1.Audience.API,
      });
      expect(claims.claims?.subject).toBe(adminClaims.claims?.subject);
      const before = await second.client.verifyToken({
        token: adminToken,
        audience: entitlementV1.Audience.API,
      });
      expect(before.claims?.keyId).toBe(adminClaims.claims?.keyId);
      expect(claims.claims?.administrator).toBe(true);
      await second.stop();
    } finally {
      await lite.cleanup();
      await nats.cleanup();
    }
  });
});
