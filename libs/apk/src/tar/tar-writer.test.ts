import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { TarError, UnsafeEntryError } from "../errors.js";
import type { TarWriterEntry } from "./tar-writer.js";
import { writeTar } from "./tar-writer.js";

/** Splits concatenated gzip members (flag-less headers, as abuild and apk write them). */
function gunzipMembers(bytes: Uint8Array): Uint8Array[] {
  const members: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const result = inflateRawSync(bytes.subarray(offset + 10), { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    members.push(new Uint8Array(result.buffer));
    offset += 10 + result.engine.bytesWritten + 8;
  }
  return members;
}

interface RawEntry {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string;
  content: Uint8Array;
  pax: string;
  magic: string;
  header: Uint8Array;
}

/** A deliberately small tar walker for checking what the writer produced. */
function walk(tar: Uint8Array): RawEntry[] {
  const text = (from: number, length: number) => {
    const field = tar.subarray(from, from + length);
    const end = field.indexOf(0);
    return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString("utf8");
  };
  const octal = (from: number, length: number) =>
    Number.parseInt(text(from, length).trim() || "0", 8);
  const entries: RawEntry[] = [];
  let offset = 0;
  let pax = "";
  while (offset + 512 <= tar.length) {
    if (tar.subarray(offset, offset + 512).every((byte) => byte === 0)) {
      offset += 512;
      continue;
    }
    const size = octal(offset + 124, 12);
    const typeflag = String.fromCharCode(tar[offset + 156] ?? 0);
    const content = tar.subarray(offset + 512, offset + 512 + size);
    if (typeflag === "x") {
      pax = Buffer.from(content).toString("utf8");
    } else {
      entries.push({
        name: text(offset, 100),
        typeflag,
        mode: octal(offset + 100, 8),
        uid: octal(offset + 108, 8),
        gid: octal(offset + 116, 8),
        mtime: octal(offset + 136, 12),
        linkname: text(offset + 157, 100),
        magic: Buffer.from(tar.subarray(offset + 257, offset + 265)).toString("latin1"),
        uname: text(offset + 265, 32),
        gname: text(offset + 297, 32),
        content,
        pax,
        header: tar.subarray(offset, offset + 512),
      });
      pax = "";
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** Turns walked entries back into writer input, as a package builder would describe them. */
function asWriterEntries(entries: RawEntry[]): TarWriterEntry[] {
  const types = { "0": "file", "1": "hardlink", "2": "symlink", "5": "directory" } as const;
  return entries.map((entry) => {
    const type = types[entry.typeflag as keyof typeof types];
    return {
      path: entry.name,
      type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      uname: entry.uname,
      gname: entry.gname,
      mtime: entry.mtime,
      content: entry.content,
      ...(type === "symlink" || type === "hardlink" ? { linkTarget: entry.linkname } : {}),
    };
  });
}

describeWithFixtures("tar writer against a real abuild package", (fixtures) => {
  const apk = new Uint8Array(
    readFileSync(join(fixtures, "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk")),
  );
  const [signature, control, data] = gunzipMembers(apk);

  it("rebuilds the data stream byte for byte (PAX headers, SHA-1 records, GNU record padding)", () => {
    const rebuilt = writeTar(asWriterEntries(walk(data!)), {
      style: "posix",
      checksums: true,
      zeroTimes: true,
      recordSize: 10240,
    });
    expect(Buffer.compare(rebuilt, data!)).toBe(0);
  });

  it("rebuilds the cut control stream byte for byte", () => {
    const rebuilt = writeTar(asWriterEntries(walk(control!)), {
      style: "posix",
      zeroTimes: true,
      cut: true,
    });
    expect(Buffer.compare(rebuilt, control!)).toBe(0);
  });

  it("rebuilds the cut GNU-format signature stream byte for byte", () => {
    const rebuilt = writeTar(asWriterEntries(walk(signature!)), { style: "gnu", cut: true });
    expect(Buffer.compare(rebuilt, signature!)).toBe(0);
  });
});

describeWithFixtures("tar writer against a real apk-tools index", (fixtures) => {
  it("rebuilds APKINDEX.tar.gz's index stream byte for byte in the apk style", () => {
    const archive = new Uint8Array(readFileSync(join(fixtures, "rusty_box/apkindex_data.gz")));
    const [index] = gunzipMembers(archive);
    const rebuilt = writeTar(asWriterEntries(walk(index!)), { style: "apk" });
    expect(Buffer.compare(rebuilt, index!)).toBe(0);
  });
});

describe("writeTar", () => {
  const file = (
    path: string,
    text: string,
    extra: Partial<TarWriterEntry> = {},
  ): TarWriterEntry => ({
    path,
    type: "file",
    mode: 0o644,
    content: new TextEncoder().encode(text),
    ...extra,
  });

  it("gives identical bytes for identical input and sorts paths in byte order when asked", () => {
    const entries = [file("usr/bin/b", "b"), file("usr-local", "x"), file("usr/bin/a", "a")];
    const first = writeTar(entries, { sort: true, mtime: 1700000000 });
    const second = writeTar([...entries].reverse(), { sort: true, mtime: 1700000000 });
    expect(Buffer.compare(first, second)).toBe(0);
    expect(walk(first).map((entry) => entry.name)).toEqual(["usr-local", "usr/bin/a", "usr/bin/b"]);
  });

  it("ends with two zero blocks, or none when cut", () => {
    const whole = writeTar([file("a", "x")]);
    expect(whole.length).toBe(512 * 4);
    expect(whole.subarray(1024).every((byte) => byte === 0)).toBe(true);
    expect(writeTar([file("a", "x")], { cut: true }).length).toBe(1024);
  });

  it("keeps long paths and link targets in PAX records", () => {
    const long = `${"deep/".repeat(30)}file.txt`;
    const target = `/${"t".repeat(150)}`;
    const tar = writeTar([
      file(long, "hi"),
      { path: "link", type: "symlink", mode: 0o777, linkTarget: target },
    ]);
    const [first, second] = walk(tar);
    expect(first?.pax).toContain(` path=${long}\n`);
    expect(second?.pax).toContain(` linkpath=${target}\n`);
  });

  it("uses GNU long-name entries in the gnu and apk styles", () => {
    const long = "n".repeat(120);
    const tar = writeTar([file(long, "x")], { style: "apk" });
    const header = Buffer.from(tar.subarray(0, 100)).toString("latin1").replace(/\0+$/, "");
    expect(header).toBe("././@LongLink");
    expect(String.fromCharCode(tar[156] ?? 0)).toBe("L");
  });

  it("records SHA-1 checksums for files and symlink targets as abuild-tar --hash does", () => {
    const tar = writeTar(
      [
        file("etc/motd", "hello\n"),
        { path: "bin/sh", type: "symlink", mode: 0o777, linkTarget: "busybox" },
      ],
      { checksums: true },
    );
    const [motd, sh] = walk(tar);
    const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
    expect(motd?.pax).toContain(`APK-TOOLS.checksum.SHA1=${sha1("hello\n")}`);
    expect(sh?.pax).toContain(`APK-TOOLS.checksum.SHA1=${sha1("busybox")}`);
    expect(sh?.linkname).toBe("busybox");
    // The legacy copy sits after three NUL bytes, so tar tools still see no link name.
    expect(motd?.linkname).toBe("");
    expect(Buffer.from(motd!.header.subarray(160, 164)).toString("latin1")).toBe("APK2");
  });

  it("refuses paths that climb out, duplicates, and content on directories", () => {
    expect(() => writeTar([file("../etc/passwd", "x")])).toThrow(UnsafeEntryError);
    expect(() => writeTar([file("a", "1"), file("./a", "2")])).toThrow(TarError);
    expect(() =>
      writeTar([{ path: "d", type: "directory", mode: 0o755, content: new Uint8Array(1) }]),
    ).toThrow(TarError);
    expect(() => writeTar([file("a", "x")], { style: "gnu", checksums: true })).toThrow(TarError);
  });
});
