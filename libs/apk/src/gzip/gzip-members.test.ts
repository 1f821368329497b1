import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { chunked, concatBytes, gzipMember, sha256 } from "../../test/synthetic-archives.js";
import { GzipError, LimitExceededError } from "../errors.js";
import { crc32, crc32Portable } from "./crc32.js";
import { type GzipMember, readGzipMembers } from "./gzip-members.js";

/** Members, their inflated bytes and their compressed bytes, as reported. */
async function split(
  source: Uint8Array | Iterable<Uint8Array>,
  options: Parameters<typeof readGzipMembers>[1] = {},
) {
  const members: { member: GzipMember; data: Uint8Array; compressed: Uint8Array }[] = [];
  let data: Uint8Array[] = [];
  let compressed: Uint8Array[] = [];
  for await (const event of readGzipMembers(source, options)) {
    if (event.type === "data") data.push(new Uint8Array(event.bytes));
    if (event.type === "compressed") compressed.push(new Uint8Array(event.bytes));
    if (event.type === "member-end") {
      members.push({
        member: event.member,
        data: concatBytes(data),
        compressed: concatBytes(compressed),
      });
      data = [];
      compressed = [];
    }
  }
  return members;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

// Byte-wise comparison; expect().toEqual is very slow on large typed arrays.
const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));

const text = (n: number) => new TextEncoder().encode("apk tar stream ".repeat(n));

describe("readGzipMembers", () => {
  const a = text(1000);
  const b = noise(300_000);
  const c = text(3);
  const input = concatBytes([gzipMember(a), gzipMember(b, { level: 1 }), gzipMember(c)]);

  it("reports each member's exact byte range and inflated bytes", async () => {
    const members = await split(input);
    expect(members.map((m) => m.member.index)).toEqual([0, 1, 2]);
    expect(members[0]?.member.offset).toBe(0);
    for (const { member, data, compressed } of members) {
      // The range is exact: slicing the input there gives a member that gunzips alone.
      const slice = input.subarray(member.offset, member.offset + member.length);
      expect(same(compressed, slice)).toBe(true);
      expect(same(zlib.gunzipSync(slice), data)).toBe(true);
      expect(member.uncompressedLength).toBe(data.length);
      expect(member.crc32).toBe(crc32(data));
    }
    const last = members.at(-1)?.member;
    expect((last?.offset ?? 0) + (last?.length ?? 0)).toBe(input.length);
    expect(members.map((m) => sha256(m.data))).toEqual([a, b, c].map(sha256));
  });

  it("finds the same boundaries whatever the chunking, down to one byte at a time", async () => {
    const expected = (await split(input)).map((m) => m.member);
    for (const seed of [1, 2, 3]) {
      expect((await split(chunked(input, seed, 5000))).map((m) => m.member)).toEqual(expected);
    }
    const small = concatBytes([gzipMember(c), gzipMember(c)]);
    const bytewise = [...small].map((byte) => new Uint8Array([byte]));
    expect((await split(bytewise)).map((m) => m.data)).toEqual([c, c]);
  });

  it("parses every optional header part (FEXTRA, FNAME, FCOMMENT, FHCRC)", async () => {
    const member = gzipMember(c, {
      extra: new Uint8Array([65, 80, 2, 0, 1, 2]),
      name: "control.tar",
      comment: "signed by nobody",
      headerCrc: true,
    });
    const [first] = await split(member);
    expect(first?.member.header).toMatchObject({
      name: "control.tar",
      comment: "signed by nobody",
      extra: new Uint8Array([65, 80, 2, 0, 1, 2]),
      headerCrc: true,
      mtime: 0x40302010,
      os: 3,
    });
    expect(first?.data).toEqual(c);
  });

  it("rejects a header whose CRC16 is wrong", async () => {
    const member = gzipMember(c, { name: "x", headerCrc: true });
    member[12] = (member[12] ?? 0) ^ 0xff; // inside the CRC16
    const error = await failure(split(member));
    expect(error).toBeInstanceOf(GzipError);
    expect((error as GzipError).location.offset).toBe(12);
  });

  it.each([
    ["inside the header", 5],
    ["inside the deflate data", 4000],
    ["inside the trailer", -3],
  ])("reports a member truncated %s, with its offset", async (_where, cut) => {
    const whole = concatBytes([gzipMember(a), gzipMember(b)]);
    const firstLength = gzipMember(a).length;
    const end = cut >= 0 ? firstLength + cut : whole.length + cut;
    const error = await failure(split(whole.subarray(0, end)));
    expect(error).toBeInstanceOf(GzipError);
    expect((error as GzipError).message).toMatch(/truncated/);
    expect((error as GzipError).location.offset).toBeGreaterThanOrEqual(firstLength);
  });

  it("rejects a wrong CRC-32 and a wrong ISIZE, pointing at the trailer", async () => {
    const member = gzipMember(a);
    const badCrc = member.slice();
    badCrc[member.length - 8] = (badCrc[member.length - 8] ?? 0) ^ 1;
    const crcError = await failure(split(badCrc));
    expect(crcError).toBeInstanceOf(GzipError);
    expect((crcError as GzipError).message).toMatch(/CRC-32/);
    expect((crcError as GzipError).location.offset).toBe(member.length - 8);

    const badSize = member.slice();
    badSize[member.length - 1] = 0x7f;
    const sizeError = await failure(split(badSize));
    expect(sizeError).toBeInstanceOf(GzipError);
    expect((sizeError as GzipError).message).toMatch(/size mismatch/);
  });

  it("rejects corrupt deflate data, non-gzip input, trailing garbage and empty input", async () => {
    const member = gzipMember(a);
    const corrupt = member.slice();
    corrupt[10] = 0xff; // an invalid deflate block type
    corrupt[11] = 0xff;
    expect(await failure(split(corrupt))).toBeInstanceOf(GzipError);

    const notGzip = await failure(split(new TextEncoder().encode("PK\u0003\u0004 a zip file")));
    expect(notGzip).toBeInstanceOf(GzipError);
    expect((notGzip as GzipError).location.offset).toBe(0);

    const trailing = await failure(split(concatBytes([member, new Uint8Array(16)])));
    expect(trailing).toBeInstanceOf(GzipError);
    expect((trailing as GzipError).message).toMatch(/after gzip member 0/);
    expect((trailing as GzipError).location.offset).toBe(member.length);

    expect(await failure(split(new Uint8Array(0)))).toBeInstanceOf(GzipError);
  });

  it("stops at maxUncompressedBytes", async () => {
    const error = await failure(split(input, { maxUncompressedBytes: 100_000 }));
    expect(error).toBeInstanceOf(LimitExceededError);
  });

  it("stops an expansion bomb (200 MB of zeros) early, without inflating it", async () => {
    const bomb = await gzipZeros(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const started = performance.now();
    const heapBefore = process.memoryUsage().heapUsed;
    let inflated = 0;
    const error = await (async () => {
      for await (const event of readGzipMembers(bomb)) {
        if (event.type === "data") inflated += event.bytes.length;
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).message).toMatch(/maxExpansionRatio/);
    // Caught just past the 8 MiB threshold, not after 200 MB.
    expect(inflated).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("stops reading the source when the consumer stops early", async () => {
    let returned = false;
    async function* source() {
      try {
        yield input;
      } finally {
        returned = true;
      }
    }
    for await (const event of readGzipMembers(source())) {
      if (event.type === "member-end") break;
    }
    expect(returned).toBe(true);
  });
});

describe("crc32", () => {
  it("matches the portable implementation used on older Node 20 releases", () => {
    const data = text(500);
    expect(crc32Portable(data)).toBe(crc32(data));
    expect(crc32Portable(data.subarray(100), crc32Portable(data.subarray(0, 100)))).toBe(
      crc32(data),
    );
    expect(crc32Portable(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

describeWithFixtures("readGzipMembers on real packages", (fixtures) => {
  it.each([
    ["go-apkutils/testdata/strace-5.17-r0.apk", 3],
    ["apko-history-6c8dd7f/cli/testdata/packages/x86_64/tzdata-2023c-r0.apk", 6],
  ])("splits %s into %i members covering the whole file", async (file, count) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(fixtures, file)));
    const members = await split(chunked(bytes, 7, 65536));
    expect(members).toHaveLength(count);
    let next = 0;
    for (const { member, data } of members) {
      expect(member.offset).toBe(next);
      next += member.length;
      const slice = bytes.subarray(member.offset, member.offset + member.length);
      expect(same(zlib.gunzipSync(slice), data)).toBe(true);
    }
    expect(next).toBe(bytes.length);
  });
});

/** Incompressible bytes from a small LCG (deterministic). */
function noise(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

async function gzipZeros(total: number): Promise<Uint8Array> {
  const gzip = zlib.createGzip({ level: 1 });
  const parts: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => parts.push(chunk));
  const done = new Promise((resolve) => gzip.on("end", resolve));
  const zeros = Buffer.alloc(4 * 1024 * 1024);
  for (let written = 0; written < total; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end();
  await done;
  return new Uint8Array(Buffer.concat(parts));
}
