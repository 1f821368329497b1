/**
 * A {@link LayerCache} kept as JSON files, so a warm `tailorctl build` skips
 * inspecting packages and rewriting merged layers it has seen before.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LayerCache, PackageLayerInfo, WrittenLayerInfo } from "@tailor/assembly";

/** A {@link LayerCache} under `dir`: `packages/<key>.json` and `written/<key>.json`. */
export function createDiskLayerCache(dir: string): LayerCache {
  const file = (kind: string, key: string) =>
    path.join(dir, kind, `${createHash("sha256").update(key).digest("hex")}.json`);
  return {
    get: (checksum) => read<PackageLayerInfo>(file("packages", checksum)),
    set: (checksum, info) => write(file("packages", checksum), info),
    getWritten: (key) => read<WrittenLayerInfo>(file("written", key)),
    setWritten: (key, info) => write(file("written", key), info),
  };
}

async function read<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    // Missing or damaged: the entry is recomputed (and rewritten), never trusted half-read.
    return undefined;
  }
}

async function write(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temporary, JSON.stringify(value));
  await rename(temporary, file);
}
