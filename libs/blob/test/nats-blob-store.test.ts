import { createTestNats, type TestNats, testLogger } from "@tailor/testing";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsBlobStore, openBlobStore, sha256Digest } from "../src/index.js";
import { describeBlobStore, pseudoRandomBytes } from "./blob-store-suite.js";

/** Buckets created by this file, removed at the end. */
const buckets = new Set<string>();
let nats: TestNats;
let raw: NatsConnection;

beforeAll(async () => {
  nats = await createTestNats();
  raw = await connect({ servers: nats.url, name: "blob-test-raw" });
});

afterAll(async () => {
  if (raw !== undefined) {
    const jsm = await raw.jetstreamManager();
    for (const bucket of buckets) await jsm.streams.delete(`OBJ_${bucket}`).catch(() => undefined);
    await raw.close();
  }
  await nats?.cleanup();
});

function uniqueBucket(suffix: string): string {
  const bucket = `${nats.namespace}_${suffix}`;
  buckets.add(bucket);
  return bucket;
}

/**
 * What the bucket's stream holds: its message count, the objects' info
 * subjects and the number of chunk subjects. Any chunk or info left over
 * changes it; the random ids of chunk subjects do not.
 */
async function streamState(bucket: string): Promise<unknown> {
  const jsm = await raw.jetstreamManager();
  const info = await jsm.streams.info(`OBJ_${bucket}`, { subjects_filter: ">" });
  const subjects = Object.keys(info.state.subjects ?? {});
  return {
    messages: info.state.messages,
    objects: subjects.filter((subject) => subject.startsWith(`$O.${bucket}.M.`)).sort(),
    chunkSubjects: subjects.filter((subject) => subject.startsWith(`$O.${bucket}.C.`)).length,
  };
}

describeBlobStore("nats blob store", async () => {
  const bucket = uniqueBucket("blobs");
  const store = await createNatsBlobStore({
    servers: nats.url,
    bucket,
    name: "blob-test",
    logger: testLogger(),
  });
  return {
    store,
    snapshot: () => streamState(bucket),
    cleanup: () => store.close(),
  };
});

describe("nats blob store interoperability", () => {
  it("stores objects any object store client reads, named by digest", async () => {
    const bucket = uniqueBucket("interop");
    const store = await createNatsBlobStore({ servers: nats.url, bucket });
    try {
      expect(store.kind).toBe("nats");
      expect(store.description).toBe(`nats object store ${bucket}`);
      const bytes = pseudoRandomBytes(300_000, 42);
      const { digest } = await store.put(bytes);
      expect(digest).toBe(sha256Digest(bytes));
      const os = await raw.jetstream().views.os(bucket);
      const info = await os.info(digest);
      expect(info).toMatchObject({ name: digest, size: bytes.byteLength, chunks: 3 });
      // getBlob checks the object store's own SHA-256 digest of the chunks.
      expect(await os.getBlob(digest)).toEqual(bytes);
      expect((await os.list()).map((entry) => entry.name)).toEqual([digest]);
    } finally {
      await store.close();
      await store.close();
    }
  });

  it("is what openBlobStore opens for nats://BUCKET", async () => {
    const bucket = uniqueBucket("opened");
    const store = await openBlobStore(`nats://${bucket}`, {
      dataDir: "/nonexistent",
      natsUrl: nats.url,
    });
    try {
      expect(store.kind).toBe("nats");
      expect(store.description).toBe(`nats object store ${bucket}`);
    } finally {
      await store.close();
    }
  });
});

describe("nats blob store range reads", () => {
  it("reads a late range right when other objects' chunks sit between its own", async () => {
    const bucket = uniqueBucket("interleaved");
    const store = await createNatsBlobStore({
      servers: nats.url,
      bucket,
      name: "blob-test-interleaved",
      logger: testLogger(),
    });
    try {
      // 128 KiB chunks: a dozen each.
      const first = pseudoRandomBytes(1_500_017, 7);
      const second = pseudoRandomBytes(1_500_003, 8);
      // Written at once, piece by piece, so their chunks interleave in the stream.
      async function* slowly(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < bytes.byteLength; at += 65_536) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          yield bytes.subarray(at, at + 65_536);
        }
      }
      const [a, b] = await Promise.all([store.put(slowly(first)), store.put(slowly(second))]);
      for (const [info, bytes] of [
        [a, first],
        [b, second],
      ] as const) {
        for (const [offset, length] of [
          [1_000_005, 300_000],
          [131_072 * 11, 2000],
          [bytes.byteLength - 1, 1],
          [131_072, 131_072],
        ] as const) {
          const chunks: Uint8Array[] = [];
          for await (const chunk of await store.get(info.digest, { offset, length })) {
            chunks.push(chunk);
          }
          const got = Buffer.concat(chunks);
          const want = Buffer.from(
            bytes.subarray(offset, Math.min(bytes.byteLength, offset + length)),
          );
          expect(got.equals(want), `${info.digest} ${offset}+${length}`).toBe(true);
        }
      }
    } finally {
      await store.close();
    }
  });
});
