import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectBus } from "@tailor/bus";
import { createTestNats, freePort, testLogger } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsUnavailableError, resolveNats } from "../src/index.js";

const logger = testLogger();
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tailor-nats-"));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("resolveNats", () => {
  it("uses NATS_URL when it answers with JetStream", async () => {
    const nats = await createTestNats();
    const resolved = await resolveNats({ configuredUrl: nats.url, dataDir, logger });
    expect(resolved).toMatchObject({ url: nats.url, source: "configured" });
    await nats.cleanup();
  });

  it("names the configured URL when it does not answer", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const error = await resolveNats({ configuredUrl: url, dataDir, logger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NatsUnavailableError);
    expect((error as Error).message).toContain(`NATS_URL=${url} does not answer`);
  });

  it("starts a nats-server child with its store in the data directory when nothing answers", async () => {
    const localUrl = `nats://127.0.0.1:${await freePort()}`;
    const resolved = await resolveNats({ configuredUrl: undefined, localUrl, dataDir, logger });
    try {
      expect(resolved.source).toBe("child");
      const bus = await connectBus({ servers: resolved.url, name: "probe", logger });
      await bus.provision();
      await bus.close();
      const store = await fs.readdir(path.join(dataDir, "nats"));
      expect(store.length).toBeGreaterThan(0);
    } finally {
      await resolved.stop();
    }
    const after = await connectBus({
      servers: resolved.url,
      name: "probe",
      logger,
      reconnect: { maxAttempts: 0 },
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(Error);
  });
});
