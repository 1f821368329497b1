import { createHash, randomFillSync } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gunzipSync } from "node:zlib";
import { readTarGzip } from "@tailor/apk";
import { describe, expect, it } from "vitest";
import {
  LONG_DIR,
  LONG_PATH,
  LONG_TARGET,
  SAMPLE_TIME,
  sampleEntries,
} from "../test/sample-image.js";
import { InvalidLayerEntryError, OciError } from "./errors.js";
import type { LayerEntry } from "./layer-entry.js";
import { writeLayer } from "./layer-writer.js";

async function layerBytes(
  entries: Iterable<LayerEntry> | AsyncIterable<LayerEntry>,
  level?: number,
) {
  const chunks: Uint8Array[] = [];
  const result = await writeLayer(
    entries,
    (chunk) => {
      chunks.push(Buffer.from(chunk));
    },
    level === undefined ? {} : { gzipLevel: level },
  );
  return { result, bytes: Buffer.concat(chunks) };
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

describe("writeLayer", () => {
  it("writes the sample layer with the golden digest and diff_id", async () => {
    // Checked once with real tools: sha256sum of the blob, `gzip -dc | sha256sum`,
    // `tar -tvvzf` listing and `umoci unpack` of a layout holding it.
    const { result, bytes } = await layerBytes(sampleEntries());
    expect(result).toEqual({
      digest: "sha256:28c2f995fa4a57f82229e885fff0e6278b392da8fbfa02bb927701d4d541c861",
      diffId: "sha256:a386fd35381d73fdc36548c4806b9b091331dc4e28d5976fc288c0f0f7b6cc4f",
      size: 760,
      uncompressedSize: 19_968,
    });
    expect(sha256(bytes)).toBe(result.digest);
    expect(bytes.length).toBe(result.size);
    const tar = gunzipSync(bytes);
    expect(sha256(tar)).toBe(result.diffId);
    expect(tar.length).toBe(result.uncompressedSize);
  });

  it("gives the same bytes on every run and however the content is chunked", async () => {
    const first = await layerBytes(sampleEntries());
    const again = await layerBytes(sampleEntries());
    const byteChunks = await layerBytes(sampleEntries(7));
    async function* oneByOne() {
      for (const entry of sampleEntries(1)) yield entry;
    }
    const asyncEntries = await layerBytes(oneByOne());
    for (const other of [again, byteChunks, asyncEntries]) {
      expect(other.result).toEqual(first.result);
      expect(other.bytes.equals(first.bytes)).toBe(true);
    }
  });

  it("writes a fixed gzip header: no name, mtime 0, Unix OS byte", async () => {
    for (const [level, xfl] of [
      [1, 4],
      [6, 0],
      [9, 2],
    ] as const) {
      const { bytes, result } = await layerBytes(sampleEntries(), level);
      expect([...bytes.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
      // Another level is another blob but the same tar.
      if (level !== 6)
        expect(result.digest).not.toBe(
          "sha256:28c2f995fa4a57f82229e885fff0e6278b392da8fbfa02bb927701d4d541c861",
        );
      expect(result.diffId).toBe(
        "sha256:a386fd35381d73fdc36548c4806b9b091331dc4e28d5976fc288c0f0f7b6cc4f",
      );
    }
  });

  it("reads back with the entries, modes, owners, links and contents given", async () => {
    const { bytes } = await layerBytes(sampleEntries());
    const { files } = await readTarGzip(bytes);
    const listing = files.map(({ entry, content }) => ({
      path: entry.path,
      type: entry.type,
      mode: entry.mode.toString(8),
      owner: `${entry.uid}:${entry.gid}`,
      names: `${entry.uname ?? ""}:${entry.gname ?? ""}`,
      mtime: entry.mtime,
      ...(entry.linkTarget === undefined ? {} : { link: entry.linkTarget }),
      ...(entry.type === "file" ? { content: Buffer.from(content).toString("latin1") } : {}),
    }));
    const time = SAMPLE_TIME.getTime() / 1000;
    expect(listing.map((item) => item.mtime)).toEqual(listing.map(() => time));
    expect(listing.map(({ mtime: _, ...rest }) => rest)).toEqual([
      { path: "bin", type: "directory", mode: "755", owner: "0:0", names: ":" },
      {
        path: "bin/hello",
        type: "file",
        mode: "755",
        owner: "0:0",
        names: ":",
        content: "#!/bin/sh\necho hello from tailor\n",
      },
      {
        path: "bin/su-helper",
        type: "file",
        mode: "4755",
        owner: "0:0",
        names: ":",
        content: "setuid\n",
      },
      { path: "bin/hi", type: "symlink", mode: "777", owner: "0:0", names: ":", link: "hello" },
      { path: "etc", type: "directory", mode: "755", owner: "0:0", names: ":" },
      {
        path: "etc/os-release",
        type: "file",
        mode: "644",
        owner: "0:0",
        names: ":",
        content: 'ID=tailor\nNAME="Tailor"\n',
      },
      {
        path: "etc/release",
        type: "hardlink",
        mode: "644",
        owner: "0:0",
        names: ":",
        link: "etc/os-release",
      },
      {
        path: "etc/crème-brûlée.conf",
        type: "file",
        mode: "644",
        owner: "0:0",
        names: ":",
        content: "dessert=yes\n",
      },
      { path: "home", type: "directory", mode: "755", owner: "0:0", names: ":" },
      { path: "home/app", type: "directory", mode: "750", owner: "1000:1000", names: "app:app" },
      {
        path: "home/app/data.bin",
        type: "file",
        mode: "600",
        owner: "1000:1000",
        names: "app:app",
        content: Buffer.from("\u0000\u0001binary\u00ff".repeat(300)).toString("latin1"),
      },
      { path: "tmp", type: "directory", mode: "1777", owner: "0:0", names: ":" },
      { path: "usr", type: "directory", mode: "755", owner: "0:0", names: ":" },
      { path: "usr/share", type: "directory", mode: "755", owner: "0:0", names: ":" },
      { path: LONG_DIR, type: "directory", mode: "755", owner: "0:0", names: ":" },
      { path: LONG_PATH, type: "file", mode: "644", owner: "0:0", names: ":", content: "deep\n" },
      {
        path: "usr/share/long-link",
        type: "symlink",
        mode: "777",
        owner: "0:0",
        names: ":",
        link: LONG_TARGET,
      },
      { path: "usr/share/empty", type: "file", mode: "644", owner: "0:0", names: ":", content: "" },
    ]);
    expect(LONG_PATH.length).toBeGreaterThan(100);
    expect(LONG_TARGET.length).toBeGreaterThan(100);
  });

  it("streams a 100 MB file with little memory and hashes what the sink received", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const size = 100 * 1024 * 1024;
    const used = () => {
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    async function* content() {
      for (let left = size; left > 0; left -= 64 * 1024) {
        // Fresh, half-random chunks, like a file read from disk.
        const chunk = new Uint8Array(Math.min(64 * 1024, left));
        randomFillSync(chunk, 0, chunk.length >> 1);
        yield chunk;
      }
    }
    gc();
    const before = used();
    let peak = 0;
    let calls = 0;
    const received = createHash("sha256");
    let receivedBytes = 0;
    const result = await writeLayer(
      [
        {
          path: "big.bin",
          type: "file",
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: SAMPLE_TIME,
          size,
          data: content(),
        },
      ],
      (chunk) => {
        received.update(chunk);
        receivedBytes += chunk.length;
        if (++calls % 100 === 0) {
          gc();
          peak = Math.max(peak, used() - before);
        }
      },
      { gzipLevel: 1 },
    );
    expect(calls).toBeGreaterThan(500);
    expect(result.uncompressedSize).toBe(512 + size + 1024);
    expect(result.size).toBe(receivedBytes);
    expect(`sha256:${received.digest("hex")}`).toBe(result.digest);
    // Everything retained while streaming stays far below the 100 MB that went through.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);

  it("lets a slow sink hold back the source (back-pressure)", async () => {
    const size = 32 * 1024 * 1024;
    let pulled = 0;
    let delivered = 0;
    let lead = 0;
    async function* content() {
      for (let left = size; left > 0; left -= 64 * 1024) {
        const chunk = randomFillSync(new Uint8Array(64 * 1024));
        pulled += chunk.length;
        yield chunk;
      }
    }
    await writeLayer(
      [
        {
          path: "r",
          type: "file",
          mode: 0o644,
          uid: 0,
          gid: 0,
          mtime: SAMPLE_TIME,
          size,
          data: content(),
        },
      ],
      async (chunk) => {
        // Random data does not compress, so compressed bytes delivered track bytes pulled.
        delivered += chunk.length;
        lead = Math.max(lead, pulled - delivered);
        await sleep(1);
      },
      { gzipLevel: 1 },
    );
    expect(delivered).toBeGreaterThan(size);
    expect(lead).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);

  it("fails naming the entry when streamed data is shorter or longer than its size", async () => {
    const streamed = (chunks: number[], size: number): LayerEntry => ({
      path: "var/log/app.log",
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: SAMPLE_TIME,
      size,
      data: (async function* () {
        for (const length of chunks) yield new Uint8Array(length);
      })(),
    });
    await expect(writeLayer([streamed([10, 10], 25)], () => {})).rejects.toThrow(
      new InvalidLayerEntryError("var/log/app.log", "data ended after 20 of its declared 25 bytes"),
    );
    await expect(writeLayer([streamed([10, 10], 15)], () => {})).rejects.toThrow(
      /layer entry "var\/log\/app.log": data is longer than its declared size 15/,
    );
  });

  it("passes a sink failure through unchanged and closes the entry source", async () => {
    let closed = false;
    async function* entries() {
      try {
        for (let i = 0; i < 100_000; i++) {
          yield {
            path: `f${i}`,
            type: "file",
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: SAMPLE_TIME,
            data: randomFillSync(new Uint8Array(4096)),
          } satisfies LayerEntry;
        }
      } finally {
        closed = true;
      }
    }
    const failure = new Error("disk full");
    await expect(
      writeLayer(entries(), () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(closed).toBe(true);
  });

  it("refuses a gzip level outside 0–9", async () => {
    await expect(writeLayer([], () => {}, { gzipLevel: 10 })).rejects.toThrow(OciError);
  });

  it("writes an empty layer as two zero blocks", async () => {
    const { result, bytes } = await layerBytes([]);
    expect(gunzipSync(bytes)).toEqual(Buffer.alloc(1024));
    expect(result.uncompressedSize).toBe(1024);
    // The well-known diff_id of an empty tar of two zero blocks.
    expect(result.diffId).toBe(sha256(new Uint8Array(1024)));
  });
});
