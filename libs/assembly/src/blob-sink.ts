/** Where assembled blobs (layers, config, manifest, SBOM) go. */

/** A content-addressed destination for blobs, passed in by the caller. */
export interface BlobSink {
  /** Whether a blob with this `sha256:` digest is already stored. */
  has(digest: string): Promise<boolean>;
  /**
   * Stores `bytes` under `digest` (`size` bytes). The sink should verify the
   * digest; assembly checks it too for the bytes it streams from packages.
   */
  put(digest: string, bytes: Uint8Array | AsyncIterable<Uint8Array>, size: number): Promise<void>;
}

/** A {@link BlobSink} in memory, for tests and small tools. */
export function createMemoryBlobSink(): BlobSink & {
  /** The stored blobs by digest. */
  readonly blobs: ReadonlyMap<string, Uint8Array>;
  /** Number of `put` calls (to see what a rebuild uploaded). */
  readonly puts: number;
} {
  const blobs = new Map<string, Uint8Array>();
  let puts = 0;
  return {
    has: async (digest) => blobs.has(digest),
    put: async (digest, bytes, _size) => {
      puts++;
      if (bytes instanceof Uint8Array) {
        blobs.set(digest, bytes);
        return;
      }
      const parts: Uint8Array[] = [];
      for await (const chunk of bytes) parts.push(chunk);
      blobs.set(digest, Buffer.concat(parts));
    },
    blobs,
    get puts() {
      return puts;
    },
  };
}
