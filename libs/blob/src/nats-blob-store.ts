import { createHash } from "node:crypto";
import { createSilentLogger, type Logger } from "@tailor/log";
import {
  connect,
  DeliverPolicy,
  headers,
  type JetStreamClient,
  type JetStreamManager,
  JsHeaders,
  type NatsConnection,
  nuid,
  type ObjectInfo,
  type ObjectStore,
  type PubAck,
  StorageType,
} from "nats";
import type { BlobDigest } from "./blob-digest.js";
import { digestHex } from "./blob-digest.js";
import type { BlobIngest, BlobSource } from "./blob-source.js";
import { putBlob } from "./blob-source.js";
import type { BlobInfo, BlobRange, BlobStore, GetOptions, PutOptions } from "./blob-store.js";
import { resolveBlobRange } from "./blob-store.js";
import { BlobError, BlobNotFoundError } from "./errors.js";

/** Options of {@link createNatsBlobStore}. */
export interface NatsBlobStoreOptions {
  /** NATS server URL(s), comma-separated. */
  servers: string;
  /** Object store bucket (letters, digits, `-`, `_`); created with file storage if missing. */
  bucket: string;
  /** Connection name shown by the server. @default "tailor-blob-store" */
  name?: string;
  /** Logs disconnects and failed clean-ups. @default a silent logger */
  logger?: Logger;
}

/** Chunk size of new objects; the object store's own default. */
const defaultChunkSize = 128 * 1024;
/** Chunk publishes awaiting their ack at once: bounds the memory a put holds. */
const publishWindow = 16;
/** Bytes fetched per pull while reading: bounds the memory a get holds. */
const fetchBytes = 4 * 1024 * 1024;
/** How long one pull waits for chunks before the read checks the object still exists. */
const fetchExpiresMs = 10_000;
const bucketPattern = /^[-\w]+$/;

/**
 * Opens a blob store in a NATS JetStream object store (bucket `bucket`, stream
 * `OBJ_<bucket>`) over its own connection, which `close()` closes. Objects are
 * named by their digest and stay readable with any object store client.
 * Needs nats-server ≥ 2.9.
 */
export async function createNatsBlobStore(options: NatsBlobStoreOptions): Promise<BlobStore> {
  if (!bucketPattern.test(options.bucket))
    throw new BlobError(
      `invalid NATS object store bucket ${JSON.stringify(options.bucket)}: use letters, digits, "-" and "_"`,
    );
  const logger = (options.logger ?? createSilentLogger()).child({
    component: "blob",
    bucket: options.bucket,
  });
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers.split(",").map((server) => server.trim()),
      name: options.name ?? "tailor-blob-store",
      maxReconnectAttempts: -1,
      timeout: 5_000,
    });
  } catch (error) {
    throw new BlobError(`cannot connect to NATS at ${options.servers}: ${describe(error)}`, {
      cause: error,
    });
  }
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const os = await js.views.os(options.bucket, {
      storage: StorageType.File,
      description: "Tailor blobs (content-addressed, named by sha256 digest)",
    });
    watchStatus(nc, logger);
    return new NatsBlobStore(nc, js, jsm, os, options.bucket, logger);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new BlobError(
      `cannot open NATS object store ${options.bucket} at ${options.servers}: ${describe(error)}`,
      { cause: error },
    );
  }
}

/**
 * Writes follow the object store layout (chunks on `$O.<bucket>.C.<nuid>`,
 * the object's info on `$O.<bucket>.M.<base64url(name)>`) rather than
 * `ObjectStore.put`, because the name (the digest) is known only once all
 * bytes passed, and the object store has no rename: the chunks go under a
 * fresh nuid, which nothing points to yet (the temp file of the directory
 * store), then one publish of the info under the digest makes the blob
 * appear atomically. A mismatch, abort or failure purges the chunks and
 * leaves nothing; the info publish expects the subject's last sequence, so
 * of two concurrent puts of the same blob one wins and the other drops its
 * chunks. `ObjectStore.put` also lacks what this needs: it publishes every
 * chunk without waiting (a fast source is buffered whole), and after a
 * failure in-flight chunks can outlive its purge. Reads use an ordered pull
 * consumer fetching a few MiB at a time, for the same reason: `get` pushes
 * the whole object at the speed of the server.
 */
class NatsBlobStore implements BlobStore {
  readonly kind = "nats";
  readonly description: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #os: ObjectStore;
  readonly #bucket: string;
  readonly #stream: string;
  readonly #logger: Logger;
  readonly #chunkSize: number;

  constructor(
    nc: NatsConnection,
    js: JetStreamClient,
    jsm: JetStreamManager,
    os: ObjectStore,
    bucket: string,
    logger: Logger,
  ) {
    this.#nc = nc;
    this.#js = js;
    this.#jsm = jsm;
    this.#os = os;
    this.#bucket = bucket;
    this.#stream = `OBJ_${bucket}`;
    this.#logger = logger;
    this.#chunkSize = Math.min(defaultChunkSize, nc.info?.max_payload ?? defaultChunkSize);
    this.description = `nats object store ${bucket}`;
  }

  put(source: BlobSource, options: PutOptions = {}): Promise<BlobInfo> {
    return putBlob(this, source, options, (ingest) => this.#write(ingest));
  }

  async #write(ingest: BlobIngest): Promise<BlobInfo> {
    const id = nuid.next();
    const chunkSubject = `$O.${this.#bucket}.C.${id}`;
    const pending: Promise<PubAck>[] = [];
    let chunks = 0;
    // Set once the chunks are (or may be) referenced by a blob's info: then they must stay.
    let keepChunks = false;
    const publishChunk = async (data: Uint8Array): Promise<void> => {
      const ack = this.#js.publish(chunkSubject, data).catch((error: unknown) => {
        const message = `cannot store a blob chunk in ${this.description}: ${describe(error)}`;
        throw new BlobError(message, { cause: error });
      });
      // Marked handled now; the failure surfaces where the ack is awaited.
      ack.catch(() => undefined);
      pending.push(ack);
      chunks++;
      if (pending.length >= publishWindow) await pending.shift();
    };
    try {
      let buffer = new Uint8Array(this.#chunkSize);
      let filled = 0;
      for await (const piece of ingest.chunks()) {
        for (let offset = 0; offset < piece.byteLength; ) {
          const n = Math.min(buffer.byteLength - filled, piece.byteLength - offset);
          buffer.set(piece.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          if (filled === buffer.byteLength) {
            // A fresh buffer per chunk: the client may still hold the last one in its outbound queue.
            await publishChunk(buffer);
            buffer = new Uint8Array(this.#chunkSize);
            filled = 0;
          }
        }
      }
      if (filled > 0) await publishChunk(buffer.subarray(0, filled));
      await Promise.all(pending);
      const info = ingest.finish();
      const existing = await this.#os.info(info.digest);
      if (existing !== null && !existing.deleted)
        return { digest: info.digest, size: existing.size };
      try {
        await this.#publishInfo(info, id, chunks, existing?.revision ?? 0);
      } catch (error) {
        // A lost reply may hide a publish that took effect: look before dropping the chunks.
        const now = await this.#os.info(info.digest).catch(() => undefined);
        if (now === undefined) {
          keepChunks = true;
          throw new BlobError(`cannot store blob ${info.digest}: ${describe(error)}`, {
            cause: error,
          });
        }
        if (now !== null && !now.deleted) {
          keepChunks = now.nuid === id;
          // Otherwise a concurrent put of the same blob won (expected last sequence) and ours is redundant.
          return { digest: info.digest, size: now.size };
        }
        throw new BlobError(`cannot store blob ${info.digest}: ${describe(error)}`, {
          cause: error,
        });
      }
      keepChunks = true;
      return info;
    } finally {
      if (!keepChunks) {
        await Promise.allSettled(pending);
        await this.#jsm.streams.purge(this.#stream, { filter: chunkSubject }).catch((error) => {
          this.#logger.warn(
            { err: error, subject: chunkSubject },
            "purging unused blob chunks failed",
          );
        });
      }
    }
  }

  /** Makes the chunks under `id` visible as blob `info.digest`, if the name's last revision is still `revision`. */
  async #publishInfo(info: BlobInfo, id: string, chunks: number, revision: number): Promise<void> {
    const hex = digestHex(info.digest);
    const meta = {
      name: info.digest,
      description: "",
      options: { max_chunk_size: this.#chunkSize },
      bucket: this.#bucket,
      nuid: id,
      size: info.size,
      chunks,
      mtime: new Date().toISOString(),
      // The object store's own digest is the same sha256, in padded base64url.
      digest: `SHA-256=${base64UrlPadded(Buffer.from(hex, "hex"))}`,
      deleted: false,
    };
    const h = headers();
    h.set(JsHeaders.RollupHdr, JsHeaders.RollupValueSubject);
    await this.#js.publish(this.#metaSubject(info.digest), JSON.stringify(meta), {
      headers: h,
      expect: { lastSubjectSequence: revision },
    });
  }

  #metaSubject(name: string): string {
    return `$O.${this.#bucket}.M.${base64UrlPadded(Buffer.from(name, "utf8"))}`;
  }

  async get(digest: BlobDigest, options: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const info = await this.#info(digest);
    if (info === undefined) throw new BlobNotFoundError(digest);
    const range = resolveBlobRange(digest, info.size, options);
    return this.#read(info, digest, range, options.signal);
  }

  async *#read(
    info: ObjectInfo,
    digest: BlobDigest,
    range: BlobRange,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Uint8Array, void, undefined> {
    signal?.throwIfAborted();
    if (range.end === range.start) return;
    const chunkSize = info.options?.max_chunk_size ?? this.#chunkSize;
    // Every chunk but the last is full, so the range ends in chunk `needed - 1`.
    const needed = Math.min(info.chunks, Math.ceil(range.end / chunkSize));
    const batch = Math.max(1, Math.floor(fetchBytes / chunkSize));
    const whole = range.start === 0 && range.end === info.size;
    const hash = whole ? createHash("sha256") : undefined;
    const subject = `$O.${this.#bucket}.C.${info.nuid}`;
    // A range starting past the first chunk starts reading at its first
    // chunk: a headers-only pass finds that chunk's stream sequence, so a
    // tail range of a large layer never transfers the bytes before it.
    const skip = whole ? 0 : Math.min(Math.floor(range.start / chunkSize), needed - 1);
    const startSequence = skip > 0 ? await this.#sequenceOfChunk(subject, skip) : undefined;
    const consumer = await this.#js.consumers.get(this.#stream, {
      filterSubjects: subject,
      ...(startSequence === undefined
        ? {}
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSequence }),
    });
    let received = startSequence === undefined ? 0 : skip;
    let position = startSequence === undefined ? 0 : skip * chunkSize;
    let idle = 0;
    try {
      while (received < needed) {
        const messages = await consumer.fetch({
          max_messages: Math.min(batch, needed - received),
          expires: fetchExpiresMs,
        });
        const before = received;
        for await (const message of messages) {
          signal?.throwIfAborted();
          const data = message.data;
          const chunkStart = position;
          position += data.byteLength;
          received++;
          hash?.update(data);
          // Chunks before the range are skipped, the first and last trimmed.
          const from = Math.max(range.start - chunkStart, 0);
          const to = Math.min(range.end - chunkStart, data.byteLength);
          if (to > from) yield data.subarray(from, to);
        }
        if (received > before) {
          idle = 0;
          continue;
        }
        const now = await this.#os.info(digest);
        if (now === null || now.deleted || now.nuid !== info.nuid)
          throw new BlobNotFoundError(digest);
        if (++idle >= 3)
          throw new BlobError(
            `blob ${digest} is damaged: chunk ${received + 1} of ${info.chunks} did not arrive`,
          );
      }
      signal?.throwIfAborted();
      if (position < range.end)
        throw new BlobError(`blob ${digest} is damaged: ${position} of ${info.size} bytes stored`);
      if (hash !== undefined && `sha256:${hash.digest("hex")}` !== digest)
        throw new BlobError(`blob ${digest} is damaged: its bytes hash to something else`);
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /**
   * The stream sequence of chunk `index` (0-based) of an object, read with a
   * headers-only consumer; undefined when the chunks cannot be walked (the
   * caller then reads from the first chunk).
   */
  async #sequenceOfChunk(subject: string, index: number): Promise<number | undefined> {
    const walker = await this.#js.consumers.get(this.#stream, {
      filterSubjects: subject,
      headers_only: true,
    });
    try {
      let seen = 0;
      while (seen <= index) {
        const messages = await walker.fetch({
          max_messages: Math.min(1000, index + 1 - seen),
          expires: fetchExpiresMs,
        });
        const before = seen;
        for await (const message of messages) {
          if (seen === index) return message.seq;
          seen++;
        }
        if (seen === before) return undefined;
      }
      return undefined;
    } finally {
      await walker.delete().catch(() => undefined);
    }
  }

  async #info(digest: BlobDigest): Promise<ObjectInfo | undefined> {
    digestHex(digest);
    let info: ObjectInfo | null;
    try {
      info = await this.#os.info(digest);
    } catch (error) {
      throw new BlobError(`cannot look up blob ${digest}: ${describe(error)}`, { cause: error });
    }
    return info === null || info.deleted ? undefined : info;
  }

  async stat(digest: BlobDigest): Promise<BlobInfo | undefined> {
    const info = await this.#info(digest);
    return info === undefined ? undefined : { digest, size: info.size };
  }

  async has(digest: BlobDigest): Promise<boolean> {
    return (await this.#info(digest)) !== undefined;
  }

  async delete(digest: BlobDigest): Promise<boolean> {
    if ((await this.#info(digest)) === undefined) return false;
    try {
      await this.#os.delete(digest);
      return true;
    } catch (error) {
      throw new BlobError(`cannot delete blob ${digest}: ${describe(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    if (!this.#nc.isClosed()) await this.#nc.close();
  }
}

function watchStatus(nc: NatsConnection, logger: Logger): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect")
        logger.warn({ server: status.data }, "disconnected from NATS");
      else if (status.type === "reconnect")
        logger.info({ server: status.data }, "reconnected to NATS");
    }
  })().catch(() => undefined);
}

function base64UrlPadded(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString("base64url");
  return text.padEnd(Math.ceil(text.length / 4) * 4, "=");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
