// writeLayer throughput: tar + gzip + both sha256 digests in one pass, at gzip
// levels 6 and 1, against hashing alone. Content is a deterministic mix of
// text-like and binary-like files, generated in memory before timing.
// Run after `npm run build`: node bench/write-layer.mjs [MiB, default 256]
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { writeLayer } from "../dist/index.js";

const totalMiB = Number(process.argv[2] ?? 256);
const words =
  "the quick brown fox jumps over lazy dogs package library python site usr lib share doc".split(
    " ",
  );

let seed = 42;
function random() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
}

function textFile(size) {
  const parts = [];
  let length = 0;
  while (length < size) {
    const word = words[random() % words.length];
    parts.push(word, random() % 9 === 0 ? "\n" : " ");
    length += word.length + 1;
  }
  return Buffer.from(parts.join("")).subarray(0, size);
}

function binaryFile(size) {
  // Machine-code-like: random bytes with runs of repeated structure (compresses ~2:1).
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = i % 4 === 0 ? random() & 0xff : (i >> 6) & 0x0f;
  return out;
}

const files = [];
let bytes = 0;
for (let i = 0; bytes < totalMiB * 1024 * 1024; i++) {
  const size = 4096 + (random() % (2 * 1024 * 1024));
  const data = i % 2 === 0 ? textFile(size) : binaryFile(size);
  files.push({ path: `usr/lib/bench/file-${i}`, data });
  bytes += size;
}
const mtime = new Date("2024-01-01T00:00:00Z");
const entries = () =>
  files.map(({ path, data }) => ({ path, type: "file", mode: 0o644, uid: 0, gid: 0, mtime, data }));

const mb = bytes / 1e6;
const hashStart = performance.now();
const hash = createHash("sha256");
for (const { data } of files) hash.update(data);
hash.digest();
const hashSeconds = (performance.now() - hashStart) / 1000;
console.log(
  `content: ${files.length} files, ${mb.toFixed(0)} MB; sha256 alone: ${(mb / hashSeconds).toFixed(0)} MB/s`,
);

for (const level of [6, 1]) {
  const start = performance.now();
  const result = await writeLayer(entries(), () => {}, { gzipLevel: level });
  const seconds = (performance.now() - start) / 1000;
  const zlibStart = performance.now();
  await pipeline(
    Readable.from(files.map((file) => file.data)),
    createGzip({ level, chunkSize: 64 * 1024 }),
    async (source) => {
      for await (const _ of source);
    },
  );
  const zlibSeconds = (performance.now() - zlibStart) / 1000;
  console.log(
    `zlib alone, level ${level}: ${(mb / zlibSeconds).toFixed(1)} MB/s; ` +
      `gzip level ${level}: ${(mb / seconds).toFixed(1)} MB/s uncompressed (${seconds.toFixed(2)} s), ` +
      `ratio ${(result.uncompressedSize / result.size).toFixed(2)}`,
  );
}
