import type { eventsV1 } from "@tailor/proto";
import { afterAll, describe, expect, it } from "vitest";
import { consumeInBackground, sleep, Worlds, waitFor } from "../test/setup.js";
import { consumers, type Delivery, defineConsumer, events, streamName } from "./index.js";

const worlds = new Worlds();
afterAll(() => worlds.cleanup());

function logLines(name: string, ackWaitMs: number) {
  return defineConsumer({
    name,
    stream: "EVENTS",
    filter: "build.log",
    events: [events.buildLog],
    description: `test: ${name}`,
    ackWaitMs,
  });
}

async function publishLines(
  world: Awaited<ReturnType<Worlds["create"]>>,
  count: number,
): Promise<void> {
  for (let seq = 1; seq <= count; seq++) {
    await world.publisher.publish(
      events.buildLog,
      { buildId: "b-1", seq: BigInt(seq), text: `line ${seq}` },
      { msgID: `b-1:log:${seq}` },
    );
  }
}

describe("consume", () => {
  it("redelivers a nak'ed message after the requested delay", async () => {
    const world = await worlds.create();
    await publishLines(world, 1);
    const deliveries: Array<{ count: number; at: number }> = [];
    const run = consumeInBackground(world.consumer, logLines("nak-delay", 5_000), async (d) => {
      deliveries.push({ count: d.deliveryCount, at: Date.now() });
      if (d.deliveryCount === 1) d.nak(800);
      else await d.ack();
    });
    await waitFor(() => deliveries.length === 2, 10_000, "the redelivery");
    await run.stop();
    const [first, second] = deliveries;
    expect(second?.count).toBe(2);
    // Allow a little clock skew between the server's timer and ours.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(700);
  });

  it("never hands out more unsettled deliveries than the concurrency", async () => {
    const world = await worlds.create();
    await publishLines(world, 5);
    let unsettled = 0;
    let highest = 0;
    const done: string[] = [];
    const run = consumeInBackground(
      world.consumer,
      logLines("bounded", 5_000),
      async (d) => {
        unsettled++;
        highest = Math.max(highest, unsettled);
        await sleep(150);
        // Counted down before ack: the bus frees the slot as the ack completes.
        unsettled--;
        done.push(d.message.text);
        await d.ack();
      },
      { concurrency: 2 },
    );
    await waitFor(() => done.length === 5, 10_000, "five handled lines");
    await run.stop();
    expect(highest).toBe(2);
    expect([...done].sort()).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
  });

  it("does not redeliver while a slow handler reports progress with working()", async () => {
    const world = await worlds.create();
    await publishLines(world, 1);
    const counts: number[] = [];
    let acked = false;
    const spec = logLines("slow", 1_000);
    const run = consumeInBackground(
      world.consumer,
      spec,
      async (d) => {
        counts.push(d.deliveryCount);
        // 2.5 ack waits of work, with progress reports in between.
        for (let step = 0; step < 10; step++) {
          await sleep(250);
          d.working();
        }
        await d.ack();
        acked = true;
      },
      // A second slot so a redelivery could be handed out while the first runs.
      { concurrency: 2 },
    );
    await waitFor(() => acked, 10_000, "the slow handler");
    await sleep(1_500);
    await run.stop();
    expect(counts).toEqual([1]);
  });

  it("shares work-queue jobs between two workers, each job going to exactly one", async () => {
    const world = await worlds.create();
    const workerA = await worlds.bus(world.namespace, "builder-a");
    const workerB = await worlds.bus(world.namespace, "builder-b");
    const handled = new Map<string, string[]>([
      ["a", []],
      ["b", []],
    ]);
    const worker = (name: "a" | "b") => async (d: Delivery<eventsV1.BuildJob>) => {
      await sleep(50);
      handled.get(name)?.push(d.message.buildId);
      await d.ack();
    };
    const runA = consumeInBackground(workerA, consumers.builderWorkers, worker("a"));
    const runB = consumeInBackground(workerB, consumers.builderWorkers, worker("b"));
    const ids = Array.from({ length: 12 }, (_, index) => `b-${index}`);
    for (const buildId of ids) {
      await world.publisher.publish(
        events.buildJob,
        { buildId, orgId: "org-1", customImage: "web", revision: 1, trigger: "manual" },
        { msgID: `${buildId}:job` },
      );
    }
    const total = () => (handled.get("a")?.length ?? 0) + (handled.get("b")?.length ?? 0);
    await waitFor(() => total() >= ids.length, 10_000, "all jobs");
    await sleep(300);
    await Promise.all([runA.stop(), runB.stop()]);

    const all = [...(handled.get("a") ?? []), ...(handled.get("b") ?? [])];
    expect(all.sort()).toEqual([...ids].sort());
    expect(handled.get("a")?.length).toBeGreaterThan(0);
    expect(handled.get("b")?.length).toBeGreaterThan(0);
    // Work-queue retention: an acknowledged job is gone from the stream.
    const jobs = await world.jsm.streams.info(streamName(world.namespace, "JOBS"));
    expect(jobs.state.messages).toBe(0);
  });
});
