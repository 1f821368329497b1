import { describe, expect, it } from "vitest";
import {
  BusConfigError,
  consumers,
  defineConsumer,
  events,
  streamName,
  streams,
  subjectFor,
  subjectMatches,
} from "./index.js";

describe("catalogue", () => {
  it("puts every event on the documented subject under the namespace", () => {
    expect(subjectFor("tailor", events.buildQueued)).toBe("tailor.build.queued");
    expect(subjectFor("tailor", events.packagePublished)).toBe("tailor.catalog.package.published");
    expect(subjectFor("tailor", events.organizationCreated)).toBe("tailor.entitlement.org.created");
    expect(subjectFor("tailor", events.buildJob)).toBe("tailor.jobs.build");
    expect(subjectFor("t1", events.buildLog)).toBe("t1.build.log");
  });

  it("names streams after the upper-cased namespace", () => {
    expect(streamName("tailor", "EVENTS")).toBe("TAILOR_EVENTS");
    expect(streamName("tailor", "JOBS")).toBe("TAILOR_JOBS");
    expect(streamName("tailor", "DLQ")).toBe("TAILOR_DLQ");
    expect(streamName("my-test_1", "EVENTS")).toBe("MY_TEST_1_EVENTS");
  });

  it("rejects a namespace that is not a single subject token", () => {
    expect(() => streamName("a.b", "EVENTS")).toThrow(BusConfigError);
    expect(() => subjectFor("", events.buildQueued)).toThrow(BusConfigError);
  });

  it("keeps every event in exactly the stream it declares", () => {
    for (const event of Object.values(events)) {
      const holders = Object.values(streams).filter((stream) =>
        stream.subjects.some((pattern) => subjectMatches(pattern, event.key)),
      );
      expect(
        holders.map((stream) => stream.kind),
        event.key,
      ).toEqual([event.stream]);
    }
  });

  it("gives every catalogue consumer only events its filter matches", () => {
    for (const spec of Object.values(consumers)) {
      for (const event of spec.events) {
        expect(subjectMatches(spec.filter, event.key), `${spec.name} ${event.key}`).toBe(true);
      }
    }
    expect(consumers.historyBuildEvents.name).toBe("build-history");
    expect(consumers.builderPlanner.name).toBe("builder-planner");
    expect(consumers.builderWorkers.name).toBe("builder-workers");
  });

  it("matches subjects with NATS wildcards", () => {
    expect(subjectMatches("build.>", "build.queued")).toBe(true);
    expect(subjectMatches("build.>", "build")).toBe(false);
    expect(subjectMatches("catalog.*.updated", "catalog.source-image.updated")).toBe(true);
    expect(subjectMatches("catalog.*.updated", "catalog.package.published")).toBe(false);
    expect(subjectMatches("jobs.build", "jobs.build")).toBe(true);
    expect(subjectMatches("jobs.build", "jobs.build.x")).toBe(false);
  });

  describe("defineConsumer", () => {
    const valid = {
      name: "c1",
      stream: "EVENTS",
      filter: "build.>",
      events: [events.buildQueued],
      description: "test",
    } as const;

    it("fills in documented defaults", () => {
      const spec = defineConsumer(valid);
      expect(spec).toMatchObject({
        ackWaitMs: 30_000,
        maxDeliver: 5,
        maxAckPending: 1_000,
        deliverPolicy: "all",
      });
    });

    it("refuses an event the filter does not match", () => {
      expect(() => defineConsumer({ ...valid, events: [events.packagePublished] })).toThrow(
        /filter build\.> does not match event catalog\.package\.published/,
      );
    });

    it("refuses an event kept in another stream", () => {
      expect(() =>
        defineConsumer({ ...valid, filter: "jobs.>", events: [events.buildJob] }),
      ).toThrow(/reads EVENTS but event jobs\.build is kept in JOBS/);
    });

    it("refuses names and filters JetStream would reject", () => {
      expect(() => defineConsumer({ ...valid, name: "a.b" })).toThrow(BusConfigError);
      expect(() => defineConsumer({ ...valid, filter: "build.>.x" })).toThrow(BusConfigError);
      expect(() => defineConsumer({ ...valid, maxDeliver: 0 })).toThrow(BusConfigError);
      expect(() => defineConsumer({ ...valid, events: [] })).toThrow(BusConfigError);
    });
  });
});
