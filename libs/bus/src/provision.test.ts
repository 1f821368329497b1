import { RetentionPolicy } from "nats";
import { afterAll, describe, expect, it } from "vitest";
import { uniqueNamespace, Worlds } from "../test/setup.js";
import { consumers, defineConsumer, events, ProvisionError, streamName } from "./index.js";

const worlds = new Worlds();
afterAll(() => worlds.cleanup());

const second = 1_000_000_000;

describe("provision", () => {
  it("creates the three streams with their subjects and retention", async () => {
    const { namespace: ns, jsm } = await worlds.create();

    const eventsInfo = await jsm.streams.info(streamName(ns, "EVENTS"));
    expect(eventsInfo.config.subjects).toEqual([
      `${ns}.entitlement.>`,
      `${ns}.catalog.>`,
      `${ns}.build.>`,
    ]);
    expect(eventsInfo.config.retention).toBe(RetentionPolicy.Limits);
    expect(eventsInfo.config.duplicate_window).toBe(120 * second);
    expect(eventsInfo.config.max_age).toBe(7 * 24 * 3600 * second);

    const jobs = await jsm.streams.info(streamName(ns, "JOBS"));
    expect(jobs.config.subjects).toEqual([`${ns}.jobs.>`]);
    expect(jobs.config.retention).toBe(RetentionPolicy.Workqueue);

    const dlq = await jsm.streams.info(streamName(ns, "DLQ"));
    expect(dlq.config.subjects).toEqual([`${ns}.dlq.>`]);
    expect(dlq.config.retention).toBe(RetentionPolicy.Limits);
    expect(dlq.config.max_age).toBe(30 * 24 * 3600 * second);
  });

  it("creates the catalogue consumers with one extra server-side delivery", async () => {
    const { namespace: ns, jsm } = await worlds.create();
    const history = await jsm.consumers.info(streamName(ns, "EVENTS"), "build-history");
    expect(history.config.filter_subject).toBe(`${ns}.build.>`);
    expect(history.config.max_deliver).toBe(consumers.historyBuildEvents.maxDeliver + 1);
    const planner = await jsm.consumers.info(streamName(ns, "EVENTS"), "builder-planner");
    expect(planner.config.filter_subject).toBe(`${ns}.catalog.>`);
    const workers = await jsm.consumers.info(streamName(ns, "JOBS"), "builder-workers");
    expect(workers.config.filter_subject).toBe(`${ns}.jobs.build`);
  });

  it("is idempotent when run again, and applies a changed max age", async () => {
    const { namespace: ns, publisher, jsm } = await worlds.create();
    await publisher.provision();
    await publisher.provision({ eventsMaxAgeMs: 3_600_000 });
    const info = await jsm.streams.info(streamName(ns, "EVENTS"));
    expect(info.config.max_age).toBe(3600 * second);
    const list = await jsm.streams.names(`${ns}.>`).next();
    expect(list.filter((name) => name.startsWith(ns.toUpperCase())).sort()).toEqual(
      [streamName(ns, "DLQ"), streamName(ns, "EVENTS"), streamName(ns, "JOBS")].sort(),
    );
  });

  it("succeeds when two processes provision an empty namespace at the same time", async () => {
    const ns = uniqueNamespace();
    const [a, b] = await Promise.all([worlds.bus(ns, "catalog"), worlds.bus(ns, "builder")]);
    await Promise.all([a.provision(), b.provision(), a.provision(), b.provision()]);
    const raw = await worlds.raw();
    const jsm = await raw.jetstreamManager();
    const consumerNames: string[] = [];
    for await (const info of jsm.consumers.list(streamName(ns, "EVENTS"))) {
      consumerNames.push(info.name);
    }
    expect(consumerNames.sort()).toEqual(["build-history", "builder-planner"]);
  });

  it("refuses a spec whose filter differs from the existing consumer's", async () => {
    const { consumer } = await worlds.create();
    const narrowed = defineConsumer({
      name: "build-history",
      stream: "EVENTS",
      filter: "build.queued",
      events: [events.buildQueued],
      description: "history, narrowed by mistake",
    });
    const attempt = consumer.provisionConsumer(narrowed);
    await expect(attempt).rejects.toThrow(ProvisionError);
    await expect(attempt).rejects.toThrow(/build\.> .*build\.queued.*delete the consumer/);
  });

  it("makes consuming fail loudly when the namespace was never provisioned", async () => {
    const bus = await worlds.bus(uniqueNamespace(), "builder");
    const iterate = async () => {
      for await (const delivery of bus.consume(consumers.builderWorkers)) await delivery.ack();
    };
    await expect(iterate()).rejects.toThrow(ProvisionError);
  });
});
