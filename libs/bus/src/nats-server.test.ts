import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { consumeInBackground, natsUrl, testLogger, waitFor } from "../test/setup.js";
import {
  BusConnectionError,
  connectBus,
  defineConsumer,
  events,
  findNatsServerBinary,
  NatsServerError,
  spawnNatsServer,
} from "./index.js";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function storeDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tailor-bus-nats-"));
  dirs.push(dir);
  return dir;
}

describe("Bus.close when the server is gone", () => {
  it("returns within its grace period instead of waiting for a server that will not answer", async () => {
    const server = await spawnNatsServer({ storeDir: await storeDir(), logger: testLogger() });
    const bus = await connectBus({ servers: server.url, name: "gone", logger: testLogger() });
    await bus.provision();
    await server.stop();
    const started = Date.now();
    await bus.close({ graceMs: 500 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(bus.isConnected()).toBe(false);
  });
});

describe("spawnNatsServer", () => {
  it("finds an installed nats-server", () => {
    expect(findNatsServerBinary()).toMatch(/nats-server$/);
  });

  it("runs a private JetStream server on a free port until stopped", async () => {
    const server = await spawnNatsServer({ storeDir: await storeDir(), logger: testLogger() });
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.url).not.toBe(natsUrl);

    const bus = await connectBus({ servers: server.url, name: "all-in-one", logger: testLogger() });
    await bus.provision();
    const spec = defineConsumer({
      name: "private",
      stream: "EVENTS",
      filter: "entitlement.>",
      events: [events.organizationCreated],
      description: "test: private server",
    });
    await bus.publish(events.organizationCreated, { orgId: "o-1", name: "Acme" }, { msgID: "o-1" });
    const names: string[] = [];
    const run = consumeInBackground(bus, spec, async (d) => {
      names.push(d.message.name);
      await d.ack();
    });
    await waitFor(() => names.length === 1, 10_000, "the event");
    await run.stop();
    await bus.close();
    expect(names).toEqual(["Acme"]);

    await server.stop();
    await expect(
      connectBus({
        servers: server.url,
        name: "late",
        logger: testLogger(),
        connectTimeoutMs: 1_000,
      }),
    ).rejects.toThrow(BusConnectionError);
  });

  it("reports the server's own words when it cannot start", async () => {
    const first = await spawnNatsServer({ storeDir: await storeDir() });
    try {
      const clash = spawnNatsServer({ storeDir: await storeDir(), port: first.port });
      await expect(clash).rejects.toThrow(NatsServerError);
      await expect(clash).rejects.toThrow(/address already in use/i);
    } finally {
      await first.stop();
    }
  });

  it("says so when the binary does not exist", async () => {
    const attempt = spawnNatsServer({
      storeDir: await storeDir(),
      binary: "/nonexistent/nats-server",
    });
    await expect(attempt).rejects.toThrow(NatsServerError);
    await expect(attempt).rejects.toThrow(/cannot run nats-server: .*ENOENT/);
  });
});
