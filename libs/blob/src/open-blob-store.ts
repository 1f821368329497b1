import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "@tailor/log";
import type { BlobStore } from "./blob-store.js";
import { createDirectoryBlobStore } from "./directory-blob-store.js";
import { createNatsBlobStore } from "./nats-blob-store.js";

/** Options of {@link openBlobStore}. */
export interface OpenBlobStoreOptions {
  /** `TAILOR_DATA_DIR`: the default store is `<dataDir>/blobs`. */
  dataDir: string;
  /** NATS server URL(s) used for `nats://BUCKET`. */
  natsUrl: string;
  /** Passed to the NATS store. */
  logger?: Logger;
}

/**
 * Opens the blob store `TAILOR_BLOB_STORE` names: unset or empty → the
 * directory `<dataDir>/blobs`; a path or `file://` URL → that directory;
 * `nats://BUCKET` → the JetStream object store `BUCKET` on `natsUrl`. Throws
 * an Error naming the variable for anything else.
 */
export async function openBlobStore(
  spec: string | undefined,
  options: OpenBlobStoreOptions,
): Promise<BlobStore> {
  const value = spec?.trim() ?? "";
  if (value === "") return createDirectoryBlobStore({ root: path.join(options.dataDir, "blobs") });
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  // One letter before the colon is a Windows drive, not a scheme.
  if (scheme === undefined || scheme.length === 1) return createDirectoryBlobStore({ root: value });
  if (scheme === "file") {
    let root: string;
    try {
      root = fileURLToPath(value);
    } catch (error) {
      throw new Error(`TAILOR_BLOB_STORE=${value} is not a valid file:// URL`, { cause: error });
    }
    return createDirectoryBlobStore({ root });
  }
  if (scheme === "nats") {
    const bucket = value.slice("nats://".length);
    if (!value.toLowerCase().startsWith("nats://") || !/^[-\w]+$/.test(bucket))
      throw new Error(
        `TAILOR_BLOB_STORE=${value} is not nats://BUCKET (a bucket name of letters, digits, "-" and "_"; the server is NATS_URL)`,
      );
    return createNatsBlobStore({
      servers: options.natsUrl,
      bucket,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  throw new Error(
    `TAILOR_BLOB_STORE=${value} is not supported: use a directory, a file:// URL or nats://BUCKET`,
  );
}
