import { createReadStream } from "node:fs";

/** Streams a file in chunks, so a 1 GB package is never held in memory. */
export function fileSource(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: 1 << 20 });
}

/** True when the path names an APKINDEX archive rather than a package. */
export function isIndexArchive(file: string): boolean {
  return /APKINDEX(\.[^/]*)?\.tar\.gz$/.test(file) || file.endsWith(".tar.gz");
}
