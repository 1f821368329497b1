// The outbox against real servers: Postgres (and PGlite, the embedded
// default) for the rows, NATS JetStream for the published events, read back
// as an outside subscriber sees them.
import { fromBinary } from "@bufbuild/protobuf";
import type { Bus } from "@tailor/bus";
import { connectBus, events, streamName, subjectFor } from "@tailor/bus";
import type { Database, Kysely } from "@tailor/db";
import { openServiceDatabase } from "@tailor/db";
import type { eventsV1 } from "@tailor/proto";
import type { TestNats } from "@tailor/testing";
import { createTestDatabase, createTestNats, createTestPglite, testLogger } from "@tailor/testing";
import { connect } from "nats";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OutboxTables } from "../src/index.js";
import { createOutboxRelay, createOutboxTable, enqueueEvent, enqueueEvents } from "../src/index.js";

const logger = testLogger();

/** What a test service's schema holds: its outbox, under the default name. */
type TestDatabase = OutboxTables;

/** The organization events stored in the namespace, oldest first, with their msgIDs. */
async function storedEvents(
  nats: TestNats,
): Promise<{ msgID: string; event: eventsV1.OrganizationCreated }[]> {
  const connection = await connect({ servers: nats.url, name: "outbox-test-reader" });
  try {
    const stream = streamName(nats.namespace, "EVENTS");
    const subject = subjectFor(nats.namespace, events.organizationCreated);
    const manager = await connection.jetstreamManager();
    const info = await manager.streams.info(stream, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await connection
      .jetstream()
      .consumers.get(stream, { filterSubjects: subject });
    const messages = await consumer.consume();
    const found: { msgID: string; event: eventsV1.OrganizationCreated }[] = [];
    for await (const message of messages) {
      found.push({
        msgID: message.headers?.get("Nats-Msg-Id") ?? "",
        event: fromBinary(events.organizationCreated.schema, message.data),
      });
      if (found.length >= count) break;
    }
    await messages.close();
    return found;
  } finally {
    await connection.close();
  }
}

async function deleteEventsStream(nats: TestNats): Promise<void> {
  const connection = await connect({ servers: nats.url });
  try {
    await (await connection.jetstreamManager()).streams.delete(
      streamName(nats.namespace, "EVENTS"),
    );
  } finally {
    await connection.close();
  }
}

function describeOutbox(
  backend: string,
  open: () => Promise<{ database: Database; cleanup(): Promise<void> }>,
): void {
  describe(`the outbox on ${backend}`, () => {
    let cleanupDatabase: () => Promise<void>;
    let db: Kysely<TestDatabase>;
    let nats: TestNats;
    let bus: Bus;
    let schemaCount = 0;
    let openSchema: () => Promise<Kysely<TestDatabase>>;

    beforeAll(async () => {
      const opened = await open();
      cleanupDatabase = () => opened.cleanup();
      nats = await createTestNats();
      bus = await connectBus({
        servers: nats.url,
        name: "outbox-test",
        logger,
        namespace: nats.namespace,
      });
      // A schema per test keeps their outboxes apart.
      openSchema = () =>
        openServiceDatabase<TestDatabase>(opened.database, {
          schema: `outbox_${++schemaCount}`,
          migrations: { "0001-outbox": { up: (migration) => createOutboxTable(migration) } },
          logger,
        });
    });

    beforeEach(async () => {
      await bus.provision();
      db = await openSchema();
    });

    afterAll(async () => {
      await bus?.close();
      await nats?.cleanup();
      await cleanupDatabase?.();
    });

    const created = (orgId: string) => ({ orgId, name: `org ${orgId}` });

    it("publishes an event committed in a transaction once, under its msgID, and empties the outbox", async () => {
      await db.transaction().execute(async (trx) => {
        await enqueueEvent(trx, events.organizationCreated, created("a1"), "org.created:a1");
      });
      const relay = createOutboxRelay({ db, bus, logger });
      expect(await relay.flush()).toBe(1);
      expect(await relay.flush()).toBe(0);
      const stored = (await storedEvents(nats)).filter((e) => e.event.orgId === "a1");
      expect(stored).toEqual([
        {
          msgID: "org.created:a1",
          event: expect.objectContaining({ orgId: "a1", name: "org a1" }),
        },
      ]);
      expect(await db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
    });

    it("writes nothing when the transaction rolls back", async () => {
      await expect(
        db.transaction().execute(async (trx) => {
          await enqueueEvent(trx, events.organizationCreated, created("b1"), "org.created:b1");
          throw new Error("the change failed");
        }),
      ).rejects.toThrow("the change failed");
      expect(await db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
      expect(await createOutboxRelay({ db, bus, logger }).flush()).toBe(0);
      expect((await storedEvents(nats)).filter((e) => e.event.orgId === "b1")).toEqual([]);
    });

    it("keeps events JetStream refuses, records why, and publishes them on a later flush", async () => {
      await deleteEventsStream(nats);
      await db.transaction().execute((trx) =>
        enqueueEvents(trx, events.organizationCreated, [
          { message: created("c1"), msgID: "org.created:c1" },
          { message: created("c2"), msgID: "org.created:c2" },
        ]),
      );
      const relay = createOutboxRelay({ db, bus, logger, retryDelaysMs: [10] });
      await expect(relay.flush()).rejects.toThrow("entitlement.org.created");
      // flushAfterCommit logs instead of throwing: the change is committed already.
      await relay.flushAfterCommit();
      const waiting = await db
        .selectFrom("event_outbox")
        .select(["msg_id", "attempts", "last_error"])
        .orderBy("id")
        .execute();
      expect(waiting.map((row) => row.msg_id)).toEqual(["org.created:c1", "org.created:c2"]);
      expect(waiting[0]?.attempts).toBe(3);
      expect(waiting[0]?.last_error).toContain("entitlement.org.created");

      await bus.provision();
      expect(await relay.flush()).toBe(2);
      expect((await storedEvents(nats)).map((e) => e.msgID)).toEqual([
        "org.created:c1",
        "org.created:c2",
      ]);
      expect(await db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
    });

    it("keeps an event queued twice under one msgID once", async () => {
      await db.transaction().execute(async (trx) => {
        await enqueueEvent(trx, events.organizationCreated, created("d1"), "org.created:d1");
        await enqueueEvent(trx, events.organizationCreated, created("d1"), "org.created:d1");
      });
      expect(await db.selectFrom("event_outbox").selectAll().execute()).toHaveLength(1);
    });

    it("loses no row and publishes each once when relays flush concurrently", async () => {
      const ids = Array.from({ length: 300 }, (_, index) => `e${index}`);
      await db.transaction().execute((trx) =>
        enqueueEvents(
          trx,
          events.organizationCreated,
          ids.map((id) => ({ message: created(id), msgID: `org.created:${id}` })),
        ),
      );
      const relays = [1, 2, 3].map(() =>
        createOutboxRelay({ db, bus, logger, batchSize: 40, publishWindow: 8 }),
      );
      const counts = await Promise.all(relays.map((relay) => relay.flush()));
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(ids.length);
      expect(await db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
      const stored = (await storedEvents(nats)).filter((e) => e.event.orgId.startsWith("e"));
      expect(stored.map((e) => e.msgID).sort()).toEqual(
        ids.map((id) => `org.created:${id}`).sort(),
      );
    });

    it("a started relay publishes what is left in the outbox until stopped", async () => {
      const relay = createOutboxRelay({ db, bus, logger });
      const running = relay.start(50);
      try {
        await db
          .transaction()
          .execute((trx) =>
            enqueueEvent(trx, events.organizationCreated, created("f1"), "org.created:f1"),
          );
        const deadline = Date.now() + 5000;
        while ((await db.selectFrom("event_outbox").selectAll().execute()).length > 0) {
          if (Date.now() > deadline) throw new Error("the relay did not empty the outbox");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await running.stop();
      }
      expect((await storedEvents(nats)).filter((e) => e.event.orgId === "f1")).toHaveLength(1);
    });

    it("records an unknown event type on its row and publishes the others", async () => {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto("event_outbox")
          .values({ event_type: "retired.event", msg_id: "retired:1", payload: new Uint8Array() })
          .execute();
        await enqueueEvent(trx, events.organizationCreated, created("g1"), "org.created:g1");
      });
      expect(await createOutboxRelay({ db, bus, logger }).flush()).toBe(1);
      const left = await db.selectFrom("event_outbox").selectAll().execute();
      expect(left.map((row) => [row.msg_id, row.attempts])).toEqual([["retired:1", 1]]);
      expect(left[0]?.last_error).toContain('"retired.event"');
    });
  });
}

describeOutbox("Postgres", async () => createTestDatabase({ logger }));
describeOutbox("PGlite", async () => createTestPglite({ logger }));
