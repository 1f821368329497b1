// Benchmarks of @tailor/apk (npm run bench): figures are printed, not asserted.
//  1. parse the 5.4k-package Alpine 3.19 APKINDEX.tar.gz (goal ≤ 100 ms in-process)
//  2. inspect a ~100 MB package (goal: inflate-bound, ≥ 100 MB/s), compared with
//     a bare zlib gunzip of the same bytes.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { gunzipSync } from "node:zlib";
import { readApkIndexArchive, readPackage, writePackage } from "../dist/index.js";

function findFixtures() {
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(path.dirname(dir), "shared", "fixtures", "real");
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return process.env.TAILOR_FIXTURES_DIR;
    dir = parent;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return { median: median(times), min: Math.min(...times) };
}

const fixtures = findFixtures();
if (fixtures === undefined) {
  console.log("index benchmark skipped: ../shared/fixtures/real not found");
} else {
  const file = path.join(
    fixtures,
    "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz",
  );
  const bytes = new Uint8Array(fs.readFileSync(file));
  let count = 0;
  await time(3, async () => {
    count = (await readApkIndexArchive(bytes, { file })).entries.length;
  });
  const t = await time(15, () => readApkIndexArchive(bytes, { file }));
  const inflate = await time(15, () => {
    gunzipSync(bytes);
  });
  console.log(
    `APKINDEX Alpine 3.19 (${count} packages, ${(bytes.length / 1e6).toFixed(2)} MB): ` +
      `median ${t.median.toFixed(1)} ms, best ${t.min.toFixed(1)} ms (goal <= 100 ms); ` +
      `bare gunzip ${inflate.median.toFixed(1)} ms`,
  );
}

// A package whose compressed data is about 100 MB: random base64 text compresses ~0.76.
const fileCount = 64;
const fileSize = 2 * 1024 * 1024;
const files = [];
for (let i = 0; i < fileCount; i++) {
  files.push({
    path: `usr/share/bench/file-${String(i).padStart(3, "0")}.txt`,
    type: "file",
    content: new TextEncoder().encode(randomBytes((fileSize * 3) / 4).toString("base64")),
  });
}
const writeStart = performance.now();
const pkgBytes = await writePackage({
  pkginfo: { name: "bench", version: "1.0-r0", arch: "x86_64", description: "benchmark package" },
  files,
  mtime: 1_700_000_000,
  gzipLevel: 1,
});
const writeMs = performance.now() - writeStart;
const uncompressedMb = (fileCount * fileSize) / 1e6;
console.log(
  `writePackage: ${uncompressedMb.toFixed(0)} MB of files -> ${(pkgBytes.length / 1e6).toFixed(1)} MB package in ${writeMs.toFixed(0)} ms`,
);

function* chunks(bytes, size) {
  for (let offset = 0; offset < bytes.length; offset += size)
    yield bytes.subarray(offset, offset + size);
}
async function* stream(bytes) {
  yield* chunks(bytes, 1 << 20);
}

const heapBefore = process.memoryUsage().heapUsed;
const read = await time(3, () => readPackage(stream(pkgBytes), { file: "bench.apk" }));
const heapAfter = process.memoryUsage().heapUsed;
const bare = await time(3, () => {
  gunzipSync(pkgBytes);
});
const mbps = pkgBytes.length / 1e6 / (read.median / 1000);
console.log(
  `readPackage ${(pkgBytes.length / 1e6).toFixed(1)} MB package (streamed in 1 MiB chunks): ` +
    `median ${read.median.toFixed(0)} ms = ${mbps.toFixed(0)} MB/s compressed, ` +
    `${(uncompressedMb / (read.median / 1000)).toFixed(0)} MB/s uncompressed (goal >= 100 MB/s); ` +
    `bare gunzip ${bare.median.toFixed(0)} ms -> ratio ${(read.median / bare.median).toFixed(2)}x; ` +
    `heap growth ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB`,
);
