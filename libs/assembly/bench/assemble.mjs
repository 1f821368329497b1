// Benchmark of @tailor/assembly (npm run bench): figures are printed, not asserted.
//  1. inspection of a ~100 MB package (one inflate pass with every check),
//     against a bare zlib gunzip of the same data segment;
//  2. assembling an image of that package plus 30 small ones: cold (empty
//     cache), warm (same inputs), and with 3 packages added.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { gunzipSync } from "node:zlib";
import { readPackage, writePackage } from "@tailor/apk";
import {
  assembleImage,
  createMemoryBlobSink,
  createMemoryLayerCache,
  inspectPackage,
} from "../dist/index.js";

const text = (s) => new TextEncoder().encode(s);

async function bigPackage() {
  const files = [];
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod".split(" ");
  for (let n = 0; n < 400; n++) {
    // Half text-like (compresses ~4x), half binary-like (random, incompressible).
    const size = 250_000;
    const content =
      n % 2 === 0
        ? text(
            Array.from({ length: size / 6 }, (_, i) => words[(i * 7 + n) % words.length])
              .join(" ")
              .slice(0, size),
          )
        : randomBytes(size);
    files.push({ path: `usr/lib/big/file-${n}`, type: "file", content });
  }
  return writePackage({
    pkginfo: { name: "big", version: "1.0-r0", arch: "x86_64", license: "MIT" },
    files,
    gzipLevel: 6,
  });
}

async function source(bytes, pinned = false) {
  const pkg = await readPackage(bytes);
  return {
    name: pkg.pkginfo.pkgname,
    version: pkg.pkginfo.pkgver,
    arch: "x86_64",
    checksum: pkg.checksum,
    repository: "bench",
    installedSize: pkg.installedSize,
    pinned,
    open: async () => bytes,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function time(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

const bytes = await bigPackage();
const big = await source(bytes, true);
const pkg = await readPackage(bytes);
const { offset, length, uncompressedLength } = pkg.segments.data;
const mb = uncompressedLength / 1e6;
const inspectMs = await time(5, () => inspectPackage(big));
const gunzipMs = await time(5, () => gunzipSync(bytes.subarray(offset, offset + length)));
console.log(
  `inspect ${mb.toFixed(0)} MB package: ${inspectMs.toFixed(0)} ms = ${(mb / (inspectMs / 1000)).toFixed(0)} MB/s ` +
    `(bare gunzip ${gunzipMs.toFixed(0)} ms = ${(mb / (gunzipMs / 1000)).toFixed(0)} MB/s, ratio ${(inspectMs / gunzipMs).toFixed(2)})`,
);

const small = [];
for (let n = 0; n < 30; n++) {
  small.push(
    await source(
      await writePackage({
        pkginfo: { name: `small${n}`, version: "1.0-r0", arch: "x86_64" },
        files: [
          {
            path: `usr/share/small${n}/data`,
            type: "file",
            content: randomBytes(20_000 + n * 1000),
          },
        ],
      }),
      true,
    ),
  );
}
const added = [];
for (let n = 0; n < 3; n++) {
  added.push(
    await source(
      await writePackage({
        pkginfo: { name: `added${n}`, version: "1.0-r0", arch: "x86_64" },
        files: [{ path: `usr/share/added${n}/data`, type: "file", content: randomBytes(50_000) }],
      }),
    ),
  );
}
const input = (packages) => ({ arch: "x86_64", variant: "image", packages, config: {} });
const cache = createMemoryLayerCache();
const blobs = createMemoryBlobSink();
let start = performance.now();
const cold = await assembleImage(input([big, ...small]), { cache, blobs });
const coldMs = performance.now() - start;
start = performance.now();
await assembleImage(input([big, ...small]), { cache, blobs });
const warmMs = performance.now() - start;
start = performance.now();
await assembleImage(input([big, ...small, ...added]), { cache, blobs });
const customMs = performance.now() - start;
console.log(
  `assemble ${cold.layers.length} layers (${(cold.installedSize / 1e6).toFixed(0)} MB installed): cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms, +3 packages ${customMs.toFixed(0)} ms`,
);
