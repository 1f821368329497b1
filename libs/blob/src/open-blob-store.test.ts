import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openBlobStore } from "./open-blob-store.js";

describe("openBlobStore", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "blob-open-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const options = () => ({ dataDir, natsUrl: "nats://127.0.0.1:1" });

  it("opens <dataDir>/blobs when TAILOR_BLOB_STORE is unset or empty", async () => {
    for (const spec of [undefined, "", "  "]) {
      const store = await openBlobStore(spec, options());
      expect(store.kind).toBe("directory");
      expect(store.description).toBe(`directory ${path.join(dataDir, "blobs")}`);
    }
  });

  it("opens a directory given as a path or a file:// URL", async () => {
    const dir = path.join(dataDir, "elsewhere");
    expect((await openBlobStore(dir, options())).description).toBe(`directory ${dir}`);
    const url = pathToFileURL(path.join(dataDir, "by-url")).href;
    expect((await openBlobStore(url, options())).description).toBe(
      `directory ${path.join(dataDir, "by-url")}`,
    );
  });

  it("refuses anything else with an error naming the variable", async () => {
    for (const spec of [
      "s3://bucket/blobs",
      "https://example.invalid/blobs",
      "nats://",
      "nats://host:4222/bucket",
      "nats://bad.bucket",
      "file://remote-host/blobs",
    ])
      await expect(openBlobStore(spec, options()), spec).rejects.toThrow(/TAILOR_BLOB_STORE/);
  });
});
