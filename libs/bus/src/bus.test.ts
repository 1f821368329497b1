import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { eventsV1 } from "@tailor/proto";
import { afterAll, describe, expect, it } from "vitest";
import {
  consumeInBackground,
  testLogger,
  uniqueNamespace,
  Worlds,
  waitFor,
} from "../test/setup.js";
import {
  BusClosedError,
  BusConnectionError,
  connectBus,
  type Delivery,
  defineConsumer,
  events,
  PublishError,
  spawnNatsServer,
  streamName,
} from "./index.js";

const worlds = new Worlds();
afterAll(() => worlds.cleanup());

const buildEvents = defineConsumer({
  name: "test-build-events",
  stream: "EVENTS",
  filter: "build.>",
  events: [events.buildQueued, events.buildStarted],
  description: "test: build lifecycle",
  ackWaitMs: 5_000,
});

describe("publish and consume", () => {
  it("delivers typed events from one service to another", async () => {
    const { namespace, publisher, consumer } = await worlds.create();
    const occurredAt = timestampFromDate(new Date("2025-01-02T03:04:05Z"));
    const queued = await publisher.publish(
      events.buildQueued,
      {
        buildId: "b-1",
        orgId: "org-1",
        customImage: "web",
        revision: 3,
        trigger: "manual",
        occurredAt,
      },
      { msgID: "b-1:queued", headers: { "Tailor-Request-Id": "req-9" } },
    );
    await publisher.publish(
      events.buildStarted,
      { buildId: "b-1", orgId: "org-1", worker: "w-7" },
      { msgID: "b-1:started" },
    );
    expect(queued).toEqual({ seq: 1, duplicate: false });

    const received: Delivery<eventsV1.BuildQueued | eventsV1.BuildStarted>[] = [];
    const run = consumeInBackground(consumer, buildEvents, async (delivery) => {
      received.push(delivery);
      await delivery.ack();
    });
    await waitFor(() => received.length === 2, 10_000, "two deliveries");
    await run.stop();

    const [first, second] = received;
    expect(first?.subject).toBe(`${namespace}.build.queued`);
    expect(first?.msgID).toBe("b-1:queued");
    expect(first?.deliveryCount).toBe(1);
    expect(first?.headers["Tailor-Type"]).toBe("tailor.events.v1.BuildQueued");
    expect(first?.headers["Tailor-Request-Id"]).toBe("req-9");
    if (first === undefined || !first.is(events.buildQueued))
      throw new Error("expected BuildQueued");
    expect(first.message).toMatchObject({
      buildId: "b-1",
      orgId: "org-1",
      customImage: "web",
      revision: 3,
      trigger: "manual",
    });
    expect(first.message.occurredAt?.seconds).toBe(occurredAt.seconds);
    expect(second?.event).toBe(events.buildStarted);
    expect(second?.message.$typeName).toBe("tailor.events.v1.BuildStarted");
    if (second?.message.$typeName === "tailor.events.v1.BuildStarted") {
      expect(second.message.worker).toBe("w-7");
    }
  });

  it("drops a republished msgID, so the consumer sees the event once", async () => {
    const { publisher, consumer } = await worlds.create();
    const job = { buildId: "b-2", orgId: "org-1" };
    const first = await publisher.publish(events.buildQueued, job, { msgID: "b-2:queued" });
    const again = await publisher.publish(events.buildQueued, job, { msgID: "b-2:queued" });
    await publisher.publish(events.buildStarted, job, { msgID: "b-2:started" });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });

    const seen: string[] = [];
    const run = consumeInBackground(consumer, buildEvents, async (delivery) => {
      seen.push(delivery.msgID ?? "");
      await delivery.ack();
    });
    await waitFor(() => seen.includes("b-2:started"), 10_000, "the marker event");
    await run.stop();
    expect(seen).toEqual(["b-2:queued", "b-2:started"]);
  });

  it("refuses to publish where no stream is provisioned, naming the subject", async () => {
    const namespace = uniqueNamespace();
    const bus = await worlds.bus(namespace, "entitlement");
    const attempt = bus.publish(events.organizationCreated, { orgId: "o" }, { msgID: "o:created" });
    await expect(attempt).rejects.toThrow(PublishError);
    await expect(attempt).rejects.toThrow(`${namespace}.entitlement.org.created`);
    await expect(attempt).rejects.toThrow(/provision/);
  });

  it("publishes an already-built message unchanged", async () => {
    const { publisher, jsm, namespace } = await worlds.create();
    const message = create(eventsV1.OrganizationCreatedSchema, { orgId: "o-1", name: "Acme" });
    const { seq } = await publisher.publish(events.organizationCreated, message, {
      msgID: "o-1:created",
    });
    const stored = await jsm.streams.getMessage(streamName(namespace, "EVENTS"), { seq });
    expect(stored.data).toEqual(toBinary(eventsV1.OrganizationCreatedSchema, message));
  });
});

describe("lifecycle", () => {
  it("ends the iteration when the signal aborts, and when the bus closes", async () => {
    const { consumer } = await worlds.create();
    const aborted = consumeInBackground(consumer, buildEvents, (delivery) => delivery.ack());
    await aborted.stop();

    const closing = consumeInBackground(consumer, buildEvents, (delivery) => delivery.ack());
    // Give the loop time to create its consumer and start pulling.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(consumer.isConnected()).toBe(true);
    await consumer.close();
    await expect(closing.finished).resolves.toBeUndefined();
    expect(consumer.isConnected()).toBe(false);
    expect(() => consumer.consume(buildEvents)).toThrow(BusClosedError);
  });

  it("fails fast with the server address when NATS does not answer", async () => {
    const attempt = connectBus({
      servers: "nats://127.0.0.1:1",
      name: "nobody",
      logger: testLogger(),
      connectTimeoutMs: 1_000,
    });
    await expect(attempt).rejects.toThrow(BusConnectionError);
    await expect(attempt).rejects.toThrow("nats://127.0.0.1:1");
  });

  it("keeps consuming across a NATS restart", async () => {
    const storeDir = await mkdtemp(join(tmpdir(), "tailor-bus-restart-"));
    let server = await spawnNatsServer({ storeDir });
    try {
      const bus = await connectBus({
        servers: server.url,
        name: "builder",
        logger: testLogger(),
        reconnect: { waitMs: 100 },
      });
      await bus.provision();
      const spec = defineConsumer({
        name: "restart",
        stream: "EVENTS",
        filter: "entitlement.>",
        events: [events.organizationCreated],
        description: "test: survives a restart",
      });
      const names: string[] = [];
      const run = consumeInBackground(bus, spec, async (d) => {
        names.push(d.message.name);
        await d.ack();
      });
      await bus.publish(events.organizationCreated, { orgId: "1", name: "before" }, { msgID: "1" });
      await waitFor(() => names.length === 1, 10_000, "the first event");

      await server.stop();
      await waitFor(() => !bus.isConnected(), 5_000, "the disconnect");
      server = await spawnNatsServer({ storeDir, port: server.port });
      await waitFor(() => bus.isConnected(), 10_000, "the reconnect");
      await bus.publish(events.organizationCreated, { orgId: "2", name: "after" }, { msgID: "2" });
      await waitFor(() => names.length === 2, 15_000, "the event after the restart");
      await run.stop();
      await bus.close();
      expect(names).toEqual(["before", "after"]);
    } finally {
      await server.stop();
      await rm(storeDir, { recursive: true, force: true });
    }
  });
});
