import { parsePaxRecords, parseTarHeader, readTar, verifyTarHeaderChecksum } from "@tailor/apk";
import { describe, expect, it } from "vitest";
import { InvalidLayerEntryError } from "./errors.js";
import { encodeLayerEntryHeader, type LayerEntry, prepareLayerEntry } from "./layer-entry.js";
import { createTarStream } from "./tar-stream.js";

const mtime = new Date("2024-01-02T03:04:05Z");
const base = { mode: 0o644, uid: 0, gid: 0, mtime } as const;
const utf8 = new TextDecoder();

function headers(entry: LayerEntry) {
  const bytes = encodeLayerEntryHeader(prepareLayerEntry(entry));
  const blocks = [];
  for (let at = 0; at < bytes.length; at += 512) blocks.push(bytes.subarray(at, at + 512));
  return { bytes, blocks };
}

function paxOf(entry: LayerEntry): Record<string, string> {
  const { blocks } = headers(entry);
  const first = parseTarHeader(blocks[0]!);
  expect(first.typeflag).toBe("x");
  const body = blocks
    .slice(1, -1)
    .reduce((all, block) => Buffer.concat([all, block]), Buffer.alloc(0))
    .subarray(0, first.size);
  return Object.fromEntries(parsePaxRecords(body).map((r) => [r.key, utf8.decode(r.value)]));
}

describe("tar headers", () => {
  it("writes one POSIX ustar block with fixed fields when everything fits", () => {
    const { bytes, blocks } = headers({
      ...base,
      path: "usr/bin/tool",
      type: "file",
      mode: 0o100755,
      uid: 1000,
      gid: 1001,
      uname: "build",
      gname: "wheel",
      data: new Uint8Array(3),
    });
    expect(bytes.length).toBe(512);
    const block = blocks[0]!;
    expect(verifyTarHeaderChecksum(block)).toBe(true);
    expect(parseTarHeader(block)).toMatchObject({
      name: "usr/bin/tool",
      mode: 0o755, // file-type bits dropped
      uid: 1000,
      gid: 1001,
      size: 3,
      mtime: mtime.getTime() / 1000,
      typeflag: "0",
      format: "ustar",
      uname: "build",
      gname: "wheel",
      devmajor: 0,
      devminor: 0,
    });
    // The exact field encodings GNU tar and Go write: NUL-terminated zero-padded octal.
    const field = (offset: number, length: number) =>
      Buffer.from(block.subarray(offset, offset + length)).toString("latin1");
    expect(field(100, 8)).toBe("0000755\0");
    expect(field(124, 12)).toBe("00000000003\0");
    expect(field(257, 8)).toBe("ustar\u000000");
    expect(field(329, 16)).toBe("0000000\u00000000000\0");
    expect(field(154, 2)).toBe("\0 ");
  });

  it("defaults owner names to empty and ends directory names with a slash", () => {
    const header = parseTarHeader(headers({ ...base, path: "etc", type: "directory" }).blocks[0]!);
    expect(header).toMatchObject({ name: "etc/", typeflag: "5", uname: "", gname: "" });
    const root = parseTarHeader(headers({ ...base, path: ".", type: "directory" }).blocks[0]!);
    expect(root.name).toBe("./");
  });

  it("moves a path over 100 bytes, a long link target and non-ASCII names to a PAX header", () => {
    const path = `usr/share/${"d".repeat(120)}/file`;
    const target = `../${"t".repeat(150)}`;
    expect(paxOf({ ...base, path, type: "symlink", linkname: target })).toEqual({
      linkpath: target,
      path,
    });
    expect(paxOf({ ...base, path: "etc/crème.txt", type: "file", uname: "ünï" })).toEqual({
      path: "etc/crème.txt",
      uname: "ünï",
    });
    const { blocks } = headers({ ...base, path, type: "file" });
    const pax = parseTarHeader(blocks[0]!);
    expect(pax.name).toBe(`usr/share/${"d".repeat(120)}/PaxHeaders/file`.slice(0, 100));
    expect(pax).toMatchObject({ uid: 0, gid: 0, mode: 0o644, uname: "", gname: "" });
    expect(parseTarHeader(blocks.at(-1)!).name).toBe(path.slice(0, 100));
  });

  it("keeps a path of exactly 100 bytes in the header", () => {
    const path = "p".repeat(100);
    expect(headers({ ...base, path, type: "file" }).bytes.length).toBe(512);
  });

  it("writes sizes, ids and times beyond the octal fields as base-256 plus PAX records", () => {
    const size = 9 * 1024 ** 3; // 9 GiB: over the 8 GiB octal limit
    const entry: LayerEntry = {
      ...base,
      path: "big",
      type: "file",
      uid: 3_000_000,
      gid: 4_000_000,
      size,
      mtime: new Date(Date.UTC(5000, 0, 1)),
      data: (async function* () {})(),
    };
    expect(paxOf(entry)).toEqual({
      gid: "4000000",
      mtime: String(Date.UTC(5000, 0, 1) / 1000),
      size: String(size),
      uid: "3000000",
    });
    const main = parseTarHeader(headers(entry).blocks.at(-1)!);
    expect(main).toMatchObject({ size, uid: 3_000_000, gid: 4_000_000 });
  });

  it("sorts PAX records by key and encodes record lengths that cross a digit boundary", () => {
    // " SCHILY.xattr.user.a=<v>\n" is 22 bytes plus the value: 76 and 77 make 98 and 99, whose
    // record lengths need a third digit (100, 101).
    for (let length = 60; length < 100; length++) {
      const value = "v".repeat(length);
      const pax = paxOf({
        ...base,
        path: "ä",
        type: "file",
        pax: { "SCHILY.xattr.user.a": value },
      });
      expect(pax).toEqual({ path: "ä", "SCHILY.xattr.user.a": value });
    }
    const keys = Object.keys(
      paxOf({ ...base, path: "ä", type: "file", pax: { zeta: "1", alpha: "2" } }),
    );
    expect(keys).toEqual(["alpha", "path", "zeta"]);
  });

  it.each<[string, Partial<LayerEntry>, RegExp]>([
    ["absolute path", { path: "/etc/passwd" }, /absolute/],
    ["parent component", { path: "etc/../../x" }, /climbs out/],
    ["empty component", { path: "etc//x" }, /empty or "\." component/],
    ["NUL", { path: "a\0b" }, /NUL/],
    ["negative mode", { mode: -1 }, /mode -1/],
    ["fractional uid", { uid: 1.5 }, /uid 1.5/],
    ["invalid mtime", { mtime: new Date(Number.NaN) }, /not a valid date/],
    ["mtime before 1970", { mtime: new Date(-1000) }, /before 1970/],
    ["size without data", { size: 5 }, /size 5 but no data/],
    ["size disagreeing with data", { size: 2, data: new Uint8Array(3) }, /differs/],
    ["streamed data without size", { data: (async function* () {})() }, /size is required/],
    ["reserved PAX key", { pax: { path: "x" } }, /derived from the entry/],
    ["PAX key with =", { pax: { "a=b": "x" } }, /not valid/],
    ["content on a directory", { type: "directory", data: new Uint8Array(1) }, /cannot have/],
    ["symlink without target", { type: "symlink" }, /needs a linkname/],
    ["hard link out of the root", { type: "hardlink", linkname: "../x" }, /climbs out/],
    ["file that is the root", { path: "." }, /empty or "\." component|only a directory/],
  ])("refuses an entry with %s, naming the path", (_name, change, message) => {
    const entry = { ...base, path: "etc/file", type: "file", ...change } as LayerEntry;
    let error: unknown;
    try {
      prepareLayerEntry(entry);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidLayerEntryError);
    expect((error as InvalidLayerEntryError).path).toBe(entry.path);
    expect((error as Error).message).toMatch(message);
  });
});

describe("createTarStream", () => {
  it("streams a file over 8 GiB that a tar reader reads back with its exact size", async () => {
    const size = 8 * 1024 ** 3 + 1000;
    const chunk = new Uint8Array(4 * 1024 * 1024);
    async function* zeros() {
      for (let left = size; left > 0; left -= chunk.length) {
        yield left >= chunk.length ? chunk : chunk.subarray(0, left);
      }
    }
    const tar = createTarStream([
      { ...base, path: "huge.img", type: "file", size, data: zeros() },
      { ...base, path: "after", type: "file", data: new TextEncoder().encode("after") },
    ]);
    const seen: { path: string; size: number; content?: string }[] = [];
    for await (const { entry, body } of readTar(tar)) {
      if (entry.path === "after") {
        let text = "";
        for await (const part of body) text += utf8.decode(part);
        seen.push({ path: entry.path, size: entry.size, content: text });
      } else {
        seen.push({ path: entry.path, size: entry.size });
      }
    }
    expect(seen).toEqual([
      { path: "huge.img", size },
      { path: "after", size: 5, content: "after" },
    ]);
  }, 120_000);
});
