import { connect } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { createTestNats, TestServiceUnavailableError } from "./index.js";

async function streamNames(url: string): Promise<string[]> {
  const connection = await connect({ servers: url });
  try {
    const manager = await connection.jetstreamManager();
    const names: string[] = [];
    for await (const name of manager.streams.names()) names.push(name);
    return names;
  } finally {
    await connection.close();
  }
}

async function addStream(url: string, name: string, subject: string): Promise<void> {
  const connection = await connect({ servers: url });
  try {
    const manager = await connection.jetstreamManager();
    await manager.streams.add({ name, subjects: [subject] });
  } finally {
    await connection.close();
  }
}

describe("createTestNats", () => {
  it("hands out unique namespaces", async () => {
    const first = await createTestNats();
    const second = await createTestNats();
    expect(first.namespace).toMatch(/^t[0-9a-f]{10}$/);
    expect(second.namespace).not.toBe(first.namespace);
    await first.cleanup();
    await second.cleanup();
  });

  it("deletes only the streams of its own namespace", async () => {
    const mine = await createTestNats();
    const other = await createTestNats();
    const MINE = mine.namespace.toUpperCase();
    const OTHER = other.namespace.toUpperCase();
    try {
      await addStream(mine.url, `${MINE}_EVENTS`, `${mine.namespace}.x`);
      await addStream(mine.url, `${MINE}_JOBS`, `${mine.namespace}.jobs.>`);
      await addStream(other.url, `${OTHER}_EVENTS`, `${other.namespace}.x`);

      await mine.cleanup();

      const names = await streamNames(mine.url);
      expect(names.filter((name) => name.startsWith(`${MINE}_`))).toEqual([]);
      expect(names).toContain(`${OTHER}_EVENTS`);
    } finally {
      await mine.cleanup();
      await other.cleanup();
    }
    expect((await streamNames(other.url)).filter((name) => name.startsWith(`${OTHER}_`))).toEqual(
      [],
    );
  });

  describe("when the configured server does not answer", () => {
    const saved = process.env.TAILOR_TEST_NATS_URL;
    afterEach(() => {
      if (saved === undefined) delete process.env.TAILOR_TEST_NATS_URL;
      else process.env.TAILOR_TEST_NATS_URL = saved;
    });

    it("names the URL it tried and how to start nats-server", async () => {
      process.env.TAILOR_TEST_NATS_URL = "nats://127.0.0.1:1";
      const error = await createTestNats().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TestServiceUnavailableError);
      expect((error as Error).message).toContain("nats://127.0.0.1:1");
      expect((error as Error).message).toContain("TAILOR_TEST_NATS_URL");
      expect((error as Error).message).toContain("nats-server -js");
    });
  });
});
