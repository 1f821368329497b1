/**
 * The behaviour every BlobStore implementation shares, run by each
 * implementation's test file against a fresh store.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BlobDigest,
  BlobDigestMismatchError,
  BlobError,
  BlobNotFoundError,
  BlobRangeError,
  BlobSizeMismatchError,
  type BlobStore,
  BlobTooLargeError,
  type GetOptions,
  InvalidBlobDigestError,
  readBlob,
  sha256Digest,
} from "../src/index.js";

/** A store under test plus a way to see everything it left behind. */
export interface BlobStoreFixture {
  readonly store: BlobStore;
  /**
   * Everything the store holds, in a form that changes whenever anything is
   * added (files and temp files, or stream messages): equal snapshots mean a
   * failed put left nothing behind.
   */
  snapshot(): Promise<unknown>;
  /** Closes the store and removes what it stored. */
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift32), so big blobs need no storage. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    await Promise.resolve();
    yield bytes.subarray(offset, offset + size);
  }
}

/** Exact bytes comparison; vitest's toEqual walks typed arrays element by element (slow at this size). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)).toBe(
    true,
  );
}

// A full GC before each sample, so samples measure live memory rather than garbage not yet collected.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Live JS heap plus ArrayBuffer memory, after a full GC. */
function heapNow(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Defines the shared suite for the store `open` makes (one store per `describe`). */
export function describeBlobStore(name: string, open: () => Promise<BlobStoreFixture>): void {
  describe(name, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    const expectNothingStored = async (put: () => Promise<unknown>, error: unknown) => {
      const before = await fixture.snapshot();
      const thrown = await put().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      if (typeof error === "function") expect(thrown).toBeInstanceOf(error);
      else expect(thrown).toBe(error);
      expect(await fixture.snapshot()).toEqual(before);
    };

    it("puts, gets, stats, checks and deletes a blob", async () => {
      const bytes = pseudoRandomBytes(70_000, 1);
      const digest = sha256Digest(bytes);
      const info = await store.put(bytes);
      expect(info).toEqual({ digest, size: bytes.byteLength });
      expect(await store.has(digest)).toBe(true);
      expect(await store.stat(digest)).toEqual(info);
      expectBytes(await collect(await store.get(digest)), bytes);
      expectBytes(await readBlob(store, digest), bytes);
      expect(await store.delete(digest)).toBe(true);
      expect(await store.has(digest)).toBe(false);
      expect(await store.stat(digest)).toBeUndefined();
      expect(await store.delete(digest)).toBe(false);
      await expect(store.get(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
      // And it can come back after a delete.
      expect(await store.put(bytes)).toEqual(info);
      expectBytes(await collect(await store.get(digest)), bytes);
    });

    it("describes itself", () => {
      expect(store.description).toContain(
        store.kind === "nats" ? "nats object store" : "directory",
      );
    });

    it("stores and reads an empty blob", async () => {
      const empty = new Uint8Array(0);
      const info = await store.put(empty);
      expect(info).toEqual({ digest: sha256Digest(empty), size: 0 });
      expect(await store.stat(info.digest)).toEqual(info);
      expectBytes(await collect(await store.get(info.digest)), empty);
    });

    it("is idempotent: a second put of the same bytes returns the same info and stores nothing new", async () => {
      const bytes = pseudoRandomBytes(1000, 2);
      const first = await store.put(bytes);
      const before = await fixture.snapshot();
      expect(await store.put(bytes)).toEqual(first);
      expect(await store.put(inPieces(bytes, 100))).toEqual(first);
      expect(await fixture.snapshot()).toEqual(before);
    });

    it("with the expectedDigest of a stored blob, does not read the source", async () => {
      const bytes = pseudoRandomBytes(1000, 3);
      const info = await store.put(bytes);
      let read = false;
      const source = (async function* () {
        read = true;
        yield bytes;
      })();
      expect(await store.put(source, { expectedDigest: info.digest })).toEqual(info);
      expect(read).toBe(false);
      await expect(
        store.put(bytes, { expectedDigest: info.digest, expectedSize: 999 }),
      ).rejects.toBeInstanceOf(BlobSizeMismatchError);
    });

    it("stores nothing when the bytes do not match expectedDigest", async () => {
      const bytes = pseudoRandomBytes(300_000, 4);
      const expected = sha256Digest(pseudoRandomBytes(300_000, 5));
      const before = await fixture.snapshot();
      const error = await store
        .put(inPieces(bytes, 64 * 1024), { expectedDigest: expected })
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(BlobDigestMismatchError);
      expect(error).toMatchObject({
        name: "BlobDigestMismatchError",
        expected,
        actual: sha256Digest(bytes),
      });
      expect(await fixture.snapshot()).toEqual(before);
      expect(await store.has(sha256Digest(bytes))).toBe(false);
      expect(await store.has(expected)).toBe(false);
    });

    it("stores nothing when the size does not match expectedSize", async () => {
      const bytes = pseudoRandomBytes(200_000, 6);
      await expectNothingStored(
        () => store.put(inPieces(bytes, 50_000), { expectedSize: 150_000 }),
        BlobSizeMismatchError,
      );
      await expectNothingStored(
        () => store.put(bytes, { expectedSize: 200_001 }),
        BlobSizeMismatchError,
      );
      const error = await store.put(bytes, { expectedSize: 10 }).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ name: "BlobSizeMismatchError", expected: 10 });
      expect(await store.has(sha256Digest(bytes))).toBe(false);
      // Matching expectations store the blob.
      expect(
        await store.put(bytes, { expectedSize: 200_000, expectedDigest: sha256Digest(bytes) }),
      ).toEqual({ digest: sha256Digest(bytes), size: 200_000 });
    });

    it("stores nothing when the put is aborted or the source fails", async () => {
      const bytes = pseudoRandomBytes(400_000, 7);
      const controller = new AbortController();
      const reason = new Error("stop");
      async function* abortMidway() {
        yield bytes.subarray(0, 300_000);
        controller.abort(reason);
        yield bytes.subarray(300_000);
      }
      await expectNothingStored(
        () => store.put(abortMidway(), { signal: controller.signal }),
        reason,
      );
      const failure = new Error("source broke");
      async function* failMidway() {
        yield bytes.subarray(0, 300_000);
        throw failure;
      }
      await expectNothingStored(() => store.put(failMidway()), failure);
      await expectNothingStored(
        () => store.put(bytes, { signal: AbortSignal.abort(reason) }),
        reason,
      );
      expect(await store.has(sha256Digest(bytes))).toBe(false);
    });

    it("names the digest in not-found errors", async () => {
      const digest = sha256Digest(new TextEncoder().encode("never stored"));
      const error = await store.get(digest).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(BlobNotFoundError);
      expect(error).toMatchObject({ name: "BlobNotFoundError", digest });
      expect((error as Error).message).toContain(digest);
      await expect(store.get(digest, { offset: 5, length: 1 })).rejects.toBeInstanceOf(
        BlobNotFoundError,
      );
      await expect(readBlob(store, digest)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.stat(digest)).toBeUndefined();
      expect(await store.has(digest)).toBe(false);
      expect(await store.delete(digest)).toBe(false);
    });

    it("refuses malformed digests everywhere, path traversal included", async () => {
      const stored = await store.put(new TextEncoder().encode("victim"));
      const hex = stored.digest.slice("sha256:".length);
      const malformed = [
        "",
        hex,
        `sha256:${hex.toUpperCase()}`,
        `sha256:${hex.slice(1)}`,
        `sha256:${hex}0`,
        `sha512:${hex}`,
        `sha256:../../../../etc/passwd`,
        `sha256:../${hex.slice(3)}`,
        `sha256:${hex.slice(0, 2)}/../${hex.slice(5)}`,
        `${stored.digest}/../../x`,
        `${stored.digest}\n`,
        ` ${stored.digest}`,
        "sha256:>",
        "sha256:*",
      ];
      const before = await fixture.snapshot();
      for (const digest of malformed) {
        await expect(store.get(digest), digest).rejects.toBeInstanceOf(InvalidBlobDigestError);
        await expect(store.stat(digest), digest).rejects.toBeInstanceOf(InvalidBlobDigestError);
        await expect(store.has(digest), digest).rejects.toBeInstanceOf(InvalidBlobDigestError);
        await expect(store.delete(digest), digest).rejects.toBeInstanceOf(InvalidBlobDigestError);
        await expect(
          store.put(new Uint8Array(1), { expectedDigest: digest }),
          digest,
        ).rejects.toBeInstanceOf(InvalidBlobDigestError);
        await expect(readBlob(store, digest), digest).rejects.toBeInstanceOf(
          InvalidBlobDigestError,
        );
      }
      expect(await fixture.snapshot()).toEqual(before);
      expect(await store.has(stored.digest)).toBe(true);
    });

    describe("range reads", () => {
      // Several NATS chunks (128 KiB) long, with a short last one.
      const bytes = pseudoRandomBytes(3 * 128 * 1024 + 1234, 8);
      const size = bytes.byteLength;
      let digest: BlobDigest;
      beforeAll(async () => {
        digest = (await store.put(bytes)).digest;
      });

      const cases: [string, GetOptions, number, number][] = [
        ["the start", { offset: 0, length: 10 }, 0, 10],
        [
          "the middle, across a chunk boundary",
          { offset: 131_000, length: 2_000 },
          131_000,
          133_000,
        ],
        ["a whole middle chunk and more", { offset: 100_000, length: 250_000 }, 100_000, 350_000],
        ["the end, by offset only", { offset: size - 100 }, size - 100, size],
        ["the end, by offset and length", { offset: size - 5, length: 5 }, size - 5, size],
        ["the last byte of the first chunk", { offset: 131_071, length: 1 }, 131_071, 131_072],
        ["everything, by length only", { length: size }, 0, size],
        ["zero bytes inside", { offset: 5, length: 0 }, 5, 5],
        ["zero bytes at the end", { offset: size, length: 0 }, size, size],
        ["zero bytes at the end, by offset only", { offset: size }, size, size],
      ];
      it.each(cases)("reads %s", async (_what, options, start, end) => {
        expectBytes(await collect(await store.get(digest, options)), bytes.subarray(start, end));
      });

      const bad: [string, GetOptions][] = [
        ["an offset past the end", { offset: size + 1 }],
        ["a length past the end", { offset: 0, length: size + 1 }],
        ["a range running past the end", { offset: size - 10, length: 11 }],
        ["a negative offset", { offset: -1 }],
        ["a negative length", { offset: 0, length: -1 }],
        ["a fractional offset", { offset: 1.5 }],
        ["a NaN length", { length: Number.NaN }],
      ];
      it.each(bad)("refuses %s", async (_what, options) => {
        const error = await store.get(digest, options).catch((thrown: unknown) => thrown);
        expect(error).toBeInstanceOf(BlobRangeError);
        expect(error).toMatchObject({ name: "BlobRangeError", digest, size });
      });
    });

    it("takes concurrent puts of the same bytes, storing the blob once", async () => {
      const bytes = pseudoRandomBytes(2 * MiB + 17, 9);
      const digest = sha256Digest(bytes);
      const infos = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.put(i % 2 === 0 ? inPieces(bytes, 100_000 + i * 7_000) : bytes),
        ),
      );
      for (const info of infos) expect(info).toEqual({ digest, size: bytes.byteLength });
      expectBytes(await collect(await store.get(digest)), bytes);
      const afterConcurrent = await fixture.snapshot();
      // The same state as one put after a delete: no orphans from the losers.
      await store.delete(digest);
      await store.put(bytes);
      expect(await fixture.snapshot()).toEqual(afterConcurrent);
    });

    describe("takes every kind of source", () => {
      const bytes = pseudoRandomBytes(500_000, 10);
      const digest = sha256Digest(bytes);
      let dir: string;
      beforeAll(async () => {
        dir = await mkdtemp(path.join(tmpdir(), "blob-source-"));
      });
      afterAll(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      const sources: [string, () => Promise<Parameters<BlobStore["put"]>[0]>][] = [
        ["a Uint8Array", async () => bytes],
        ["a Buffer", async () => Buffer.from(bytes)],
        ["an async generator", async () => inPieces(bytes, 33_333)],
        [
          "a web ReadableStream",
          async () => {
            let offset = 0;
            return new ReadableStream<Uint8Array>({
              pull(controller) {
                if (offset >= bytes.byteLength) return controller.close();
                controller.enqueue(bytes.slice(offset, offset + 40_000));
                offset += 40_000;
              },
            });
          },
        ],
        ["a Node.js Readable", async () => Readable.from(inPieces(bytes, 25_000))],
        [
          "a file stream",
          async () => {
            const file = path.join(dir, "source.bin");
            await writeFile(file, bytes);
            const { createReadStream } = await import("node:fs");
            return createReadStream(file, { highWaterMark: 16 * 1024 });
          },
        ],
      ];
      it.each(sources)("from %s", async (_what, make) => {
        await store.delete(digest);
        expect(await store.put(await make())).toEqual({ digest, size: bytes.byteLength });
        expectBytes(await collect(await store.get(digest)), bytes);
      });

      it("but refuses a stream of strings", async () => {
        await expectNothingStored(
          () => store.put(Readable.from(["text", "more"], { objectMode: true })),
          BlobError,
        );
      });
    });

    it("readBlob refuses a blob larger than maxBytes", async () => {
      const bytes = pseudoRandomBytes(10_000, 11);
      const { digest } = await store.put(bytes);
      expectBytes(await readBlob(store, digest, { maxBytes: 10_000 }), bytes);
      const error = await readBlob(store, digest, { maxBytes: 9_999 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobTooLargeError);
      expect(error).toMatchObject({ name: "BlobTooLargeError", digest, maxBytes: 9_999 });
    });

    it("stops a read when its signal aborts", async () => {
      const bytes = pseudoRandomBytes(MiB, 12);
      const { digest } = await store.put(bytes);
      const controller = new AbortController();
      const reason = new Error("enough");
      const read = async () => {
        for await (const _chunk of await store.get(digest, { signal: controller.signal }))
          controller.abort(reason);
      };
      await expect(read()).rejects.toBe(reason);
    });

    it("streams a 200 MB blob in and out without holding it in memory", async () => {
      const chunkSize = MiB;
      const chunkCount = 200;
      const total = chunkSize * chunkCount;
      const sourceHash = createHash("sha256");
      const baseline = heapNow();
      let peak = baseline;
      const sample = () => {
        peak = Math.max(peak, heapNow());
      };
      let outside = 0;
      async function* generate() {
        for (let i = 0; i < chunkCount; i++) {
          const started = performance.now();
          const chunk = pseudoRandomBytes(chunkSize, 1000 + i);
          sourceHash.update(chunk);
          if (i % 8 === 0) sample();
          // Time spent making the source (and sampling) is not the store's.
          outside += performance.now() - started;
          yield chunk;
        }
      }
      const putStarted = performance.now();
      const info = await store.put(generate(), { expectedSize: total });
      const putSeconds = (performance.now() - putStarted - outside) / 1000;
      const expected: BlobDigest = `sha256:${sourceHash.digest("hex")}`;
      expect(info).toEqual({ digest: expected, size: total });
      const putPeak = peak - baseline;

      const readBaseline = heapNow();
      peak = readBaseline;
      const readHash = createHash("sha256");
      let read = 0;
      let chunks = 0;
      outside = 0;
      const getStarted = performance.now();
      for await (const chunk of await store.get(info.digest)) {
        const started = performance.now();
        readHash.update(chunk);
        read += chunk.byteLength;
        if (++chunks % 64 === 0) sample();
        outside += performance.now() - started;
      }
      const getSeconds = (performance.now() - getStarted - outside) / 1000;
      expect(read).toBe(total);
      expect(`sha256:${readHash.digest("hex")}`).toBe(info.digest);
      const getPeak = peak - readBaseline;

      const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
      console.log(
        `${name}: 200 MB put ${putSeconds.toFixed(2)} s (${mb(total / putSeconds)} MB/s, live heap+arrayBuffers growth ${mb(putPeak)} MB), ` +
          `get ${getSeconds.toFixed(2)} s (${mb(total / getSeconds)} MB/s, growth ${mb(getPeak)} MB)`,
      );
      expect(putPeak).toBeLessThan(64 * MiB);
      expect(getPeak).toBeLessThan(64 * MiB);
      expect(await store.delete(info.digest)).toBe(true);
    }, 120_000);
  });
}
