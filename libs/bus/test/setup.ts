/**
 * Shared setup and cleanup for the bus tests: a unique namespace per test on
 * the shared nats-server, two bus connections standing in for two services,
 * and a raw JetStream connection to inspect or bypass the bus.
 */
import { randomBytes } from "node:crypto";
import type { Message } from "@bufbuild/protobuf";
import { createLogger, createSilentLogger, type Logger } from "@tailor/log";
import { connect, type JetStreamManager, type NatsConnection } from "nats";
import {
  type Bus,
  type ConsumerSpec,
  connectBus,
  type Delivery,
  type StreamKind,
  streamName,
} from "../src/index.js";

/** NATS the integration tests use. */
export const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** Silent unless TAILOR_TEST_LOG is set, so failures can be replayed with logs. */
export function testLogger(): Logger {
  return process.env.TAILOR_TEST_LOG === undefined
    ? createSilentLogger()
    : createLogger({ service: "bus-test", level: "debug", pretty: false });
}

/** A namespace no other test (or earlier run) uses. */
export function uniqueNamespace(): string {
  return `t${randomBytes(5).toString("hex")}`;
}

/** One test's world: a provisioned namespace and two services' connections. */
export interface BusWorld {
  readonly namespace: string;
  /** Connection named "entitlement": the publishing service. */
  readonly publisher: Bus;
  /** Connection named "builder": the consuming service. */
  readonly consumer: Bus;
  /** Raw connection for publishing bytes the bus would refuse, and for inspection. */
  readonly raw: NatsConnection;
  readonly jsm: JetStreamManager;
}

/** Creates worlds and removes their streams and connections afterwards. */
export class Worlds {
  readonly #namespaces = new Set<string>();
  readonly #buses: Bus[] = [];
  #raw: NatsConnection | undefined;

  /** A raw connection shared by the worlds of one test file. */
  async raw(): Promise<NatsConnection> {
    this.#raw ??= await connect({ servers: natsUrl, name: "bus-test-raw" });
    return this.#raw;
  }

  /** Connects a bus in `namespace` that is closed during cleanup. */
  async bus(namespace: string, name: string): Promise<Bus> {
    this.#namespaces.add(namespace);
    const bus = await connectBus({ servers: natsUrl, name, namespace, logger: testLogger() });
    this.#buses.push(bus);
    return bus;
  }

  /** A fresh, provisioned namespace with a publishing and a consuming service. */
  async create(): Promise<BusWorld> {
    const namespace = uniqueNamespace();
    const publisher = await this.bus(namespace, "entitlement");
    const consumer = await this.bus(namespace, "builder");
    await publisher.provision();
    const raw = await this.raw();
    return { namespace, publisher, consumer, raw, jsm: await raw.jetstreamManager() };
  }

  /** Remembers a namespace provisioned without {@link create}. */
  track(namespace: string): void {
    this.#namespaces.add(namespace);
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#buses.map((bus) => bus.close({ graceMs: 1_000 })));
    const raw = await this.raw();
    const jsm = await raw.jetstreamManager();
    const kinds: StreamKind[] = ["EVENTS", "JOBS", "DLQ"];
    for (const namespace of this.#namespaces) {
      for (const kind of kinds) {
        await jsm.streams.delete(streamName(namespace, kind)).catch(() => undefined);
      }
    }
    await raw.close();
  }
}

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A consume loop running in the background of a test. */
export interface BackgroundConsumer {
  /** Aborts the loop and waits until the iteration ended. */
  stop(): Promise<void>;
  /** Resolves when the iteration ended (rejects if it threw). */
  readonly finished: Promise<void>;
}

/**
 * Runs `bus.consume(spec)` in the background, passing each delivery to
 * `handle`. With concurrency 1 handlers run one after another; above 1 they
 * run in parallel, bounded by the bus.
 */
export function consumeInBackground<T extends Message>(
  bus: Bus,
  spec: ConsumerSpec<T>,
  handle: (delivery: Delivery<T>) => unknown,
  options: { concurrency?: number } = {},
): BackgroundConsumer {
  const controller = new AbortController();
  const concurrency = options.concurrency ?? 1;
  const finished = (async () => {
    for await (const delivery of bus.consume(spec, { concurrency, signal: controller.signal })) {
      if (concurrency === 1) await handle(delivery);
      else void Promise.resolve(handle(delivery));
    }
  })();
  return {
    finished,
    stop: async () => {
      controller.abort();
      await finished;
    },
  };
}
