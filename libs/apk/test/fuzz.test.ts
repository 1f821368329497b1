// Mutates real packages and indexes (bit flips, truncations, overwritten and
// repeated ranges) and checks that reading them ends in a result or a typed
// ApkError: never another exception, a hang or unbounded memory.
// TAILOR_FUZZ_ITERATIONS raises the count (default 120 per input kind);
// TAILOR_FUZZ_SEED replays a run.
import { describeWithFixtures } from "@tailor/testing";
import { expect, it } from "vitest";
import { ApkError, readApkIndexArchive, readPackage } from "../src/index.js";
import { distributionKeyring, fixtureBytes } from "./fixtures.js";

const iterations = Number(process.env.TAILOR_FUZZ_ITERATIONS ?? 120);
const seed = Number(process.env.TAILOR_FUZZ_SEED ?? Date.now() % 1_000_000);

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(input: Uint8Array, next: () => number): { bytes: Uint8Array; how: string } {
  const bytes = new Uint8Array(input);
  const at = Math.floor(next() * bytes.length);
  switch (Math.floor(next() * 4)) {
    case 0: {
      const flips = 1 + Math.floor(next() * 8);
      for (let i = 0; i < flips; i++) {
        const p = Math.floor(next() * bytes.length);
        bytes[p] = (bytes[p] ?? 0) ^ (1 << Math.floor(next() * 8));
      }
      return { bytes, how: `${flips} bit flips` };
    }
    case 1:
      return { bytes: bytes.slice(0, at), how: `truncated at ${at}` };
    case 2: {
      const length = Math.min(1 + Math.floor(next() * 64), bytes.length - at);
      for (let i = 0; i < length; i++) bytes[at + i] = Math.floor(next() * 256);
      return { bytes, how: `${length} random bytes at ${at}` };
    }
    default: {
      const length = Math.min(1 + Math.floor(next() * 512), bytes.length - at);
      const copy = bytes.slice(at, at + length);
      const out = new Uint8Array(bytes.length + length);
      out.set(bytes.slice(0, at + length));
      out.set(copy, at + length);
      out.set(bytes.slice(at + length), at + 2 * length);
      return { bytes: out, how: `${length} bytes repeated at ${at}` };
    }
  }
}

async function withinTime<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang?)`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const limits = { maxUncompressedBytes: 64 << 20, maxExpansionRatio: 200 };

describeWithFixtures("fuzzing readers with mutated real inputs", () => {
  const keyring = distributionKeyring();
  const packages = [
    "go-apkutils/testdata/strace-5.17-r0.apk",
    "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk",
    "apko-history-6c8dd7f/cli/testdata/packages/x86_64/tzdata-2023c-r0.apk",
    "wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk",
  ].map((file) => ({ file, bytes: fixtureBytes(file) }));
  const indexes = [
    "wolfictl/pkg/dag/testdata/packages/x86_64/APKINDEX.tar.gz",
    "apko/apk/testdata/signing/APKINDEX.tar.gz",
    "rusty_box/apkindex_data.gz",
  ].map((file) => ({ file, bytes: fixtureBytes(file) }));

  it(`packages: ${iterations} mutations give results or typed errors (seed ${seed})`, async () => {
    const next = random(seed);
    for (let i = 0; i < iterations; i++) {
      const source = packages[i % packages.length]!;
      const { bytes, how } = mutate(source.bytes, next);
      const what = `${source.file} #${i} (${how}, seed ${seed})`;
      const error = await withinTime(
        readPackage(bytes, { file: what, keyring, requireSignature: i % 2 === 0, limits }),
        10_000,
        what,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error !== undefined && !(error instanceof ApkError)) {
        throw new Error(`${what}: untyped error ${String(error)}`, { cause: error });
      }
    }
    expect(process.memoryUsage().heapUsed).toBeLessThan(1024 * 1024 * 1024);
  }, 120_000);

  it(`indexes: ${iterations} mutations give results or typed errors (seed ${seed})`, async () => {
    const next = random(seed + 1);
    for (let i = 0; i < iterations; i++) {
      const source = indexes[i % indexes.length]!;
      const { bytes, how } = mutate(source.bytes, next);
      const what = `${source.file} #${i} (${how}, seed ${seed})`;
      const error = await withinTime(
        readApkIndexArchive(bytes, { file: what, keyring, requireSignature: false }),
        10_000,
        what,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error !== undefined && !(error instanceof ApkError)) {
        throw new Error(`${what}: untyped error ${String(error)}`, { cause: error });
      }
    }
  }, 120_000);
});
