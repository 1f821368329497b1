import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeWithFixtures, freePort, sharedFixturesDir, testLogger, waitFor } from "./index.js";

describe("freePort", () => {
  it("returns a port a server can listen on", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe("waitFor", () => {
  it("resolves with the first value that is not undefined", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `ready after ${calls}` : undefined), {
      intervalMs: 1,
    });
    expect(value).toBe("ready after 3");
  });

  it("treats false as not yet, so predicates can be polled", async () => {
    let calls = 0;
    await expect(waitFor(() => ++calls === 3, { intervalMs: 1 })).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it("keeps polling through throws and resolves falsy values", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error("not yet");
        return 0;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(0);
  });

  it("fails with the message and the last error after the timeout", async () => {
    await expect(
      waitFor(() => undefined, { timeoutMs: 30, intervalMs: 5, message: "build never finished" }),
    ).rejects.toThrow(/^build never finished \(after 30 ms/);
    await expect(
      waitFor(
        () => {
          throw new Error("row missing");
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(/waitFor timed out .*: row missing/);
  });
});

describe("sharedFixturesDir", () => {
  it("finds shared/fixtures/real beside an ancestor of the start directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "tailor-fixtures-test-"));
    const override = process.env.TAILOR_FIXTURES_DIR;
    delete process.env.TAILOR_FIXTURES_DIR;
    try {
      const start = join(root, "repo", "libs", "apk");
      await mkdir(start, { recursive: true });
      expect(sharedFixturesDir(start)).toBeUndefined();

      await mkdir(join(root, "shared", "fixtures", "real"), { recursive: true });
      expect(sharedFixturesDir(start)).toBe(join(root, "shared", "fixtures", "real"));
    } finally {
      if (override !== undefined) process.env.TAILOR_FIXTURES_DIR = override;
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("testLogger", () => {
  it("is silent unless TAILOR_TEST_LOG=1", () => {
    if (process.env.TAILOR_TEST_LOG === "1") return;
    expect(testLogger().level).toBe("silent");
  });
});

describeWithFixtures("describeWithFixtures", (fixturesDir) => {
  it("passes the directory of the shared real fixtures", () => {
    expect(fixturesDir.endsWith(join("shared", "fixtures", "real"))).toBe(true);
  });
});
