// Streams a generated package with a ~200 MB data tar through readPackage
// and checks that memory stays flat: the reader must not buffer the data.
// TAILOR_APK_MEMORY_TEST_MB changes the size.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipMember, tarArchive, tarHeader } from "../../test/synthetic-archives.js";
import { TAR_BLOCK_SIZE } from "../tar/tar-header.js";
import { readPackage } from "./package-reader.js";

const totalMiB = Number(process.env.TAILOR_APK_MEMORY_TEST_MB ?? 200);
const FILE_BYTES = 4 * 1024 * 1024;

/** 1 MiB of word-like text that deflate shrinks about threefold. */
function textBlock(): Buffer {
  const words = [
    "apk",
    "layer",
    "tar",
    "gzip",
    "musl",
    "busybox",
    "alpine",
    "wolfi",
    "oci",
    "sha256",
  ];
  const parts: string[] = [];
  let state = 7;
  let length = 0;
  while (length < 1024 * 1024) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const word = `${words[state % words.length]}${(state >>> 8) % 1000} `;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join("").slice(0, 1024 * 1024));
}

/** The data tar, produced piece by piece: never more than one block of text in memory. */
function* dataTar(files: number, block: Buffer): Generator<Uint8Array> {
  for (let i = 0; i < files; i++) {
    yield tarHeader({ name: `usr/share/blob/${i}.txt`, mode: 0o644 }, FILE_BYTES);
    for (let written = 0; written < FILE_BYTES; written += block.length) yield block;
  }
  yield new Uint8Array(2 * TAR_BLOCK_SIZE);
}

/** The package as a stream of compressed chunks: control member, then the data member. */
async function* packageStream(files: number, block: Buffer): AsyncGenerator<Uint8Array> {
  const pkginfo = `pkgname = big\npkgver = 1-r0\narch = noarch\nsize = ${files * FILE_BYTES}\n`;
  yield gzipMember(tarArchive([{ name: ".PKGINFO", content: pkginfo }], { end: false }));
  const gzip = Readable.from(dataTar(files, block)).pipe(zlib.createGzip({ level: 1 }));
  for await (const chunk of gzip) yield chunk as Uint8Array;
}

describe("readPackage memory", () => {
  it(`streams a ${totalMiB} MiB data tar with flat memory`, async () => {
    const files = Math.max(1, Math.round((totalMiB * 1024 * 1024) / FILE_BYTES));
    const block = textBlock();
    const baseline = process.memoryUsage();
    let peak = 0;
    const sample = () => {
      const usage = process.memoryUsage();
      const growth =
        usage.heapUsed - baseline.heapUsed + (usage.arrayBuffers - baseline.arrayBuffers);
      peak = Math.max(peak, growth);
    };
    const content = createHash("sha256");
    let contentBytes = 0;
    let compressedBytes = 0;
    async function* counted() {
      for await (const chunk of packageStream(files, block)) {
        compressedBytes += chunk.length;
        yield chunk;
      }
    }
    const started = performance.now();
    const pkg = await readPackage(counted(), {
      onEntry: async (_entry, body) => {
        for await (const chunk of body) {
          content.update(chunk);
          contentBytes += chunk.length;
        }
        sample();
      },
    });
    const seconds = (performance.now() - started) / 1000;
    sample();

    expect(pkg.entries).toHaveLength(files);
    expect(contentBytes).toBe(files * FILE_BYTES);
    expect(pkg.segments.data.uncompressedLength).toBe(files * (FILE_BYTES + 512) + 1024);
    expect(pkg.segments.data.offset + pkg.segments.data.length).toBe(compressedBytes);
    // The data is 200 MB; what the reader holds at any time is a few chunks.
    // Garbage not yet collected counts too, hence the margin.
    expect(peak).toBeLessThan(96 * 1024 * 1024);
    process.stdout.write(
      `readPackage streamed ${(contentBytes / 2 ** 20).toFixed(0)} MiB of file content ` +
        `(${(compressedBytes / 2 ** 20).toFixed(0)} MiB compressed, generated on the fly) in ` +
        `${seconds.toFixed(2)} s; peak heap+buffer growth ${(peak / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }, 120_000);
});
