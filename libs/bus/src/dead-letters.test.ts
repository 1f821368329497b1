import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { eventsV1 } from "@tailor/proto";
import { headers } from "nats";
import { afterAll, describe, expect, it } from "vitest";
import { consumeInBackground, sleep, Worlds, waitFor } from "../test/setup.js";
import {
  type DeadLetter,
  deadLetterHeaders,
  defineConsumer,
  events,
  streamName,
  subjectFor,
} from "./index.js";

const worlds = new Worlds();
afterAll(() => worlds.cleanup());

function packages(name: string, options: { maxDeliver?: number; ackWaitMs?: number } = {}) {
  return defineConsumer({
    name,
    stream: "EVENTS",
    filter: "catalog.>",
    events: [events.packagePublished],
    description: `test: ${name}`,
    maxDeliver: options.maxDeliver ?? 3,
    ackWaitMs: options.ackWaitMs ?? 5_000,
  });
}

const curl = { repository: "main", name: "curl", version: "8.5.0-r0", arch: "x86_64" };

describe("dead letters", () => {
  it("dead-letters a message once its deliveries are used up", async () => {
    const world = await worlds.create();
    const spec = packages("max-deliver", { maxDeliver: 3 });
    const observed: DeadLetter[] = [];
    world.consumer.deadLetters.on((deadLetter) => observed.push(deadLetter));
    await world.publisher.publish(events.packagePublished, curl, { msgID: "curl-8.5.0" });

    const attempts: number[] = [];
    const seen: string[] = [];
    const run = consumeInBackground(world.consumer, spec, async (d) => {
      seen.push(d.message.name);
      if (d.message.name === "curl") {
        attempts.push(d.deliveryCount);
        d.nak(0, `mirror unreachable (attempt ${d.deliveryCount})`);
      } else {
        await d.ack();
      }
    });
    await waitFor(() => observed.length === 1, 10_000, "the dead letter");
    // A later message still flows, and the dead one never comes back.
    await world.publisher.publish(
      events.packagePublished,
      { ...curl, name: "zlib" },
      {
        msgID: "zlib",
      },
    );
    await waitFor(() => seen.includes("zlib"), 10_000, "the next message");
    await sleep(300);
    await run.stop();

    expect(attempts).toEqual([1, 2, 3]);
    expect(seen).toEqual(["curl", "curl", "curl", "zlib"]);
    const [deadLetter] = observed;
    expect(deadLetter).toMatchObject({
      consumer: "max-deliver",
      subject: subjectFor(world.namespace, events.packagePublished),
      stream: streamName(world.namespace, "EVENTS"),
      deliveries: 3,
      reason: "max deliveries exceeded; last error: mirror unreachable (attempt 3)",
      msgID: "curl-8.5.0",
      type: "tailor.events.v1.PackagePublished",
    });

    // Anyone can read the DLQ stream, and the payload is the original.
    const stored = await world.publisher.readDeadLetters("max-deliver");
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      reason: deadLetter?.reason,
      deliveries: 3,
      streamSeq: deadLetter?.streamSeq,
    });
    expect(
      fromBinary(eventsV1.PackagePublishedSchema, stored[0]?.data ?? new Uint8Array()),
    ).toMatchObject(curl);
    const info = await world.jsm.consumers.info(streamName(world.namespace, "EVENTS"), spec.name);
    expect(info.num_ack_pending).toBe(0);
  });

  it("dead-letters a message whose handler died on its last try", async () => {
    const world = await worlds.create();
    const spec = packages("crashing", { maxDeliver: 2, ackWaitMs: 1_000 });
    const observed: DeadLetter[] = [];
    world.consumer.deadLetters.on((deadLetter) => observed.push(deadLetter));
    await world.publisher.publish(events.packagePublished, curl, { msgID: "curl-crash" });

    const attempts: number[] = [];
    const run = consumeInBackground(world.consumer, spec, (d) => {
      attempts.push(d.deliveryCount);
      // First try fails cleanly; the second "crashes": it never settles.
      if (d.deliveryCount === 1) d.nak();
    });
    await waitFor(() => observed.length === 1, 10_000, "the dead letter");
    await run.stop();
    expect(attempts).toEqual([1, 2]);
    expect(observed[0]).toMatchObject({ deliveries: 3, reason: "max deliveries exceeded" });
  });

  it("dead-letters at once with the handler's reason on term", async () => {
    const world = await worlds.create();
    const observed: DeadLetter[] = [];
    world.consumer.deadLetters.on((deadLetter) => observed.push(deadLetter));
    await world.publisher.publish(events.packagePublished, curl, { msgID: "curl-poison" });

    const attempts: number[] = [];
    const run = consumeInBackground(world.consumer, packages("terminating"), async (d) => {
      attempts.push(d.deliveryCount);
      await d.term("poison: version 8.5.0-r0 has no checksum");
    });
    await waitFor(() => observed.length === 1, 10_000, "the dead letter");
    await sleep(300);
    await run.stop();
    expect(attempts).toEqual([1]);
    expect(observed[0]).toMatchObject({
      deliveries: 1,
      reason: "poison: version 8.5.0-r0 has no checksum",
      msgID: "curl-poison",
    });
    const [stored] = await world.consumer.readDeadLetters("terminating");
    expect(stored?.reason).toBe("poison: version 8.5.0-r0 has no checksum");
  });

  it("dead-letters an undecodable payload and keeps consuming", async () => {
    const world = await worlds.create();
    const observed: DeadLetter[] = [];
    world.consumer.deadLetters.on((deadLetter) => observed.push(deadLetter));
    const subject = subjectFor(world.namespace, events.packagePublished);
    const js = world.raw.jetstream();
    // Not protobuf: "n" reads as a tag with wire type 6, which does not exist.
    await js.publish(subject, new TextEncoder().encode("not protobuf"), {
      msgID: "garbage-1",
    });
    // Valid protobuf of the wrong message, declared as such.
    const wrongType = headers();
    wrongType.set("Tailor-Type", "tailor.events.v1.BuildFailed");
    await js.publish(
      subject,
      toBinary(eventsV1.BuildFailedSchema, create(eventsV1.BuildFailedSchema, { buildId: "x" })),
      { msgID: "garbage-2", headers: wrongType },
    );
    await world.publisher.publish(events.packagePublished, curl, { msgID: "curl-good" });

    const handled: string[] = [];
    const run = consumeInBackground(world.consumer, packages("decoding"), async (d) => {
      handled.push(d.msgID ?? "");
      await d.ack();
    });
    await waitFor(() => handled.length === 1 && observed.length === 2, 10_000, "all three");
    await run.stop();

    expect(handled).toEqual(["curl-good"]);
    expect(observed.map((deadLetter) => deadLetter.msgID)).toEqual(["garbage-1", "garbage-2"]);
    expect(observed[0]?.reason).toMatch(
      new RegExp(`^cannot decode ${subject} as tailor.events.v1.PackagePublished: `),
    );
    expect(observed[1]?.reason).toMatch(/declared as tailor.events.v1.BuildFailed/);
    expect(observed[0]?.deliveries).toBe(1);

    // The DLQ copy carries its provenance in headers, for subscribers outside Tailor.
    const stored = await world.jsm.streams.getMessage(streamName(world.namespace, "DLQ"), {
      last_by_subj: `${world.namespace}.dlq.decoding`,
    });
    expect(stored.header.get(deadLetterHeaders.consumer)).toBe("decoding");
    expect(stored.header.get(deadLetterHeaders.subject)).toBe(subject);
    expect(stored.header.get(deadLetterHeaders.msgID)).toBe("garbage-2");
    expect(stored.header.get("Nats-Msg-Id")).toBe(`decoding:${observed[1]?.streamSeq}`);
  });
});
