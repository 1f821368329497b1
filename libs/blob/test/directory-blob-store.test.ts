import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createDirectoryBlobStore, sha256Digest } from "../src/index.js";
import { describeBlobStore } from "./blob-store-suite.js";

/** Every file under `root` with its size, sorted. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const file = path.join(entry.parentPath, entry.name);
        return `${path.relative(root, file)} ${(await stat(file)).size}`;
      }),
  );
  return files.sort();
}

describeBlobStore("directory blob store", async () => {
  const root = await mkdtemp(path.join(tmpdir(), "blob-store-"));
  const store = await createDirectoryBlobStore({ root: path.join(root, "blobs") });
  return {
    store,
    snapshot: () => listFiles(root),
    cleanup: async () => {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe("directory blob store layout", () => {
  it("keeps blob sha256:<hex> at <root>/sha256/<first 2 hex>/<hex> and leaves no temp file", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "blob-layout-"));
    try {
      const store = await createDirectoryBlobStore({ root });
      expect(store.kind).toBe("directory");
      expect(store.description).toBe(`directory ${root}`);
      const bytes = new TextEncoder().encode("hello blobs");
      const { digest } = await store.put(bytes);
      expect(digest).toBe(sha256Digest(bytes));
      const hex = digest.slice("sha256:".length);
      expect(await listFiles(root)).toEqual([
        `${path.join("sha256", hex.slice(0, 2), hex)} ${bytes.byteLength}`,
      ]);
      expect(await readdir(path.join(root, "tmp"))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
