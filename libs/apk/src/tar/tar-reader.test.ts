import fs from "node:fs";
import path from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import {
  chunked,
  concatBytes,
  gzipMember,
  type RawTarEntry,
  tarArchive,
} from "../../test/synthetic-archives.js";
import { ApkError, GzipError, LimitExceededError, TarError, UnsafeEntryError } from "../errors.js";
import { createKeyring, verifySignature } from "../signature/keyring.js";
import { TAR_BLOCK_SIZE, TAR_FIELDS } from "./tar-header.js";
import { readTar, readTarGzip, type TarEntry, type TarReadOptions } from "./tar-reader.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** All entries with their bodies read. */
async function readAll(
  source: Uint8Array | Iterable<Uint8Array>,
  options: TarReadOptions = {},
): Promise<{ entry: TarEntry; content: string }[]> {
  const out: { entry: TarEntry; content: string }[] = [];
  for await (const { entry, body } of readTar(source, options)) {
    const parts: Uint8Array[] = [];
    for await (const chunk of body) parts.push(chunk);
    out.push({ entry, content: text(concatBytes(parts)) });
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<ApkError> {
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  if (!(error instanceof ApkError)) throw error;
  return error;
}

describe("readTar", () => {
  it("reads ustar, GNU and PAX entries with their metadata and bodies", async () => {
    const longName = `usr/share/${"deep/".repeat(30)}file.txt`;
    const tar = tarArchive([
      { name: "usr/", type: "5", mode: 0o40755 },
      {
        name: "usr/bin/tool",
        mode: 0o755,
        uid: 1000,
        gid: 100,
        uname: "builder",
        gname: "users",
        content: "#!/bin/sh\n",
        pax: [
          ["APK-TOOLS.checksum.SHA1", "d7f48d673ffc70ad9d48a2be709a55ad922e1784"],
          ["SCHILY.xattr.security.capability", new Uint8Array([1, 0, 0, 2, 0xff])],
          ["mtime", "1681511176.123456789"],
        ],
      },
      { name: "placeholder", pax: [["path", longName]], content: "long pax name" },
      {
        name: "././@LongLink",
        gnuLongName: "usr/lib/gnu-long-name.so",
        content: "gnu",
        format: "gnu",
      },
      { name: "usr/bin/link", type: "2", linkname: "tool" },
      { name: "usr/bin/hard", type: "1", linkname: "./usr/bin/tool" },
    ]);
    const entries = await readAll(tar);
    expect(entries.map((e) => [e.entry.path, e.entry.type])).toEqual([
      ["usr", "directory"],
      ["usr/bin/tool", "file"],
      [longName, "file"],
      ["usr/lib/gnu-long-name.so", "file"],
      ["usr/bin/link", "symlink"],
      ["usr/bin/hard", "hardlink"],
    ]);
    const tool = entries[1]?.entry;
    expect(tool).toMatchObject({
      mode: 0o755,
      uid: 1000,
      gid: 100,
      uname: "builder",
      gname: "users",
      mtime: 1681511176,
      size: 10,
      checksum: "d7f48d673ffc70ad9d48a2be709a55ad922e1784",
    });
    expect(Buffer.from(tool?.xattrs?.["security.capability"] ?? "", "latin1")).toEqual(
      Buffer.from([1, 0, 0, 2, 0xff]),
    );
    expect(entries[0]?.entry.mode).toBe(0o755);
    expect(entries[1]?.content).toBe("#!/bin/sh\n");
    expect(entries[2]?.content).toBe("long pax name");
    expect(entries[3]?.content).toBe("gnu");
    expect(entries[4]?.entry.linkTarget).toBe("tool");
    expect(entries[5]?.entry.linkTarget).toBe("usr/bin/tool");
  });

  it("accepts a stream without end-of-archive blocks (apk's control streams)", async () => {
    const tar = tarArchive([{ name: ".PKGINFO", content: "pkgname = a\n" }], { end: false });
    expect((await readAll(tar)).map((e) => e.entry.path)).toEqual([".PKGINFO"]);
  });

  it("skips bodies that are not read and reads the padding after the end marker", async () => {
    const big = "x".repeat(100_000);
    const tar = concatBytes([
      tarArchive([
        { name: "a", content: big },
        { name: "b", content: "second" },
      ]),
      new Uint8Array(8 * TAR_BLOCK_SIZE),
    ]);
    const seen: string[] = [];
    let consumed = 0;
    const counting = (function* () {
      for (const chunk of chunked(tar, 3, 4000)) {
        consumed += chunk.length;
        yield chunk;
      }
    })();
    for await (const { entry, body } of readTar(counting)) {
      seen.push(entry.path);
      if (entry.path === "b") {
        for await (const chunk of body) seen.push(text(chunk));
      }
    }
    expect(seen).toEqual(["a", "b", "second"]);
    expect(consumed).toBe(tar.length);
  });

  it("refuses entries hidden after the end marker or behind a lone zero block", async () => {
    const hidden = tarArchive([{ name: "hidden", content: "x" }], { end: false });
    const afterEnd = concatBytes([tarArchive([{ name: "a", content: "" }]), hidden]);
    const error = await failure(readAll(afterEnd));
    expect(error).toBeInstanceOf(TarError);
    expect(error.message).toMatch(/after the end-of-archive/);
    const lone = concatBytes([
      tarArchive([{ name: "a", content: "" }], { end: false }),
      new Uint8Array(TAR_BLOCK_SIZE),
      hidden,
    ]);
    expect((await failure(readAll(lone))).message).toMatch(/lone zero block/);
  });

  it("names the entry whose header checksum is wrong", async () => {
    const tar = tarArchive([
      { name: "good", content: "1" },
      { name: "usr/bin/evil", content: "2", checksumDelta: 1 },
    ]);
    const error = await failure(readAll(tar, { location: { file: "x.apk" } }));
    expect(error).toBeInstanceOf(TarError);
    expect(error.location).toMatchObject({ file: "x.apk", entry: "usr/bin/evil", offset: 1024 });
    expect(error.message).toContain("usr/bin/evil");
  });

  it("rejects data that is not a tar stream", async () => {
    const error = await failure(readAll(new TextEncoder().encode("just some text\n".repeat(100))));
    expect(error).toBeInstanceOf(TarError);
    expect(error.message).toMatch(/checksum/);
  });

  it("rejects truncated headers and bodies", async () => {
    const tar = tarArchive([{ name: "file", content: "z".repeat(2000) }], { end: false });
    expect(await failure(readAll(tar.subarray(0, 300)))).toBeInstanceOf(TarError);
    const body = await failure(readAll(tar.subarray(0, 1200)));
    expect(body).toBeInstanceOf(TarError);
    expect(body.location.entry).toBe("file");
  });

  it("rejects an unsupported entry type and a malformed number", async () => {
    expect(await failure(readAll(tarArchive([{ name: "sparse", type: "S" }])))).toBeInstanceOf(
      TarError,
    );
    const tar = tarArchive([{ name: "n", content: "" }]);
    tar.set(new TextEncoder().encode("12x45678901"), TAR_FIELDS.size.offset);
    expect(await failure(readAll(tar))).toBeInstanceOf(TarError);
  });

  describe("refuses unsafe entries, naming them", () => {
    const cases: [string, RawTarEntry[], string][] = [
      ["a `..` component", [{ name: "../x", content: "" }], "../x"],
      [
        "a `..` inside the path",
        [{ name: "usr/../../etc/passwd", content: "" }],
        "usr/../../etc/passwd",
      ],
      ["an absolute path", [{ name: "/etc/passwd", content: "" }], "/etc/passwd"],
      ["an absolute PAX path", [{ name: "ok", pax: [["path", "/abs"]] }], "/abs"],
      ["an OCI whiteout", [{ name: "usr/.wh.x", content: "" }], "usr/.wh.x"],
      ["an opaque whiteout", [{ name: "usr/.wh..wh..opq", content: "" }], "usr/.wh..wh..opq"],
      [
        "a character device",
        [{ name: "dev/null", type: "3", devmajor: 1, devminor: 3 }],
        "dev/null",
      ],
      ["a block device", [{ name: "dev/sda", type: "4" }], "dev/sda"],
      ["a FIFO", [{ name: "run/fifo", type: "6" }], "run/fifo"],
      ["a hard link to a missing entry", [{ name: "h", type: "1", linkname: "etc/shadow" }], "h"],
      [
        "a hard link to a later entry",
        [
          { name: "h", type: "1", linkname: "f" },
          { name: "f", content: "" },
        ],
        "h",
      ],
      [
        "a hard link outside the root",
        [{ name: "h", type: "1", linkname: "../../etc/shadow" }],
        "h",
      ],
      [
        "a hard link to a directory",
        [
          { name: "d/", type: "5" },
          { name: "h", type: "1", linkname: "d" },
        ],
        "h",
      ],
      [
        "a symlink escaping the root",
        [{ name: "usr/lib/x", type: "2", linkname: "../../../etc" }],
        "usr/lib/x",
      ],
      [
        "a path through an earlier symlink",
        [
          { name: "etc", type: "2", linkname: "/host/etc" },
          { name: "etc/passwd", content: "root::0:0::/:/bin/sh\n" },
        ],
        "etc/passwd",
      ],
    ];
    it.each(cases)("%s", async (_what, entries, name) => {
      const error = await failure(readAll(tarArchive(entries), { location: { file: "bad.apk" } }));
      expect(error).toBeInstanceOf(UnsafeEntryError);
      expect(error.location.file).toBe("bad.apk");
      expect(error.location.entry).toBe(name);
    });
  });

  it("allows links that stay inside, and device nodes when asked", async () => {
    const tar = tarArchive([
      { name: "usr/lib/libz.so", type: "2", linkname: "libz.so.1" },
      { name: "usr/lib/up", type: "2", linkname: "../../bin/sh" },
      { name: "bin/sh", type: "2", linkname: "/bin/busybox" },
      { name: "var/run", type: "2", linkname: "/../../run" },
      { name: "./", type: "5" },
    ]);
    expect((await readAll(tar)).map((e) => e.entry.path)).toEqual([
      "usr/lib/libz.so",
      "usr/lib/up",
      "bin/sh",
      "var/run",
      ".",
    ]);
    const devices = tarArchive([{ name: "dev/null", type: "3", devmajor: 1, devminor: 3 }]);
    const [device] = await readAll(devices, { allowSpecialFiles: true });
    expect(device?.entry).toMatchObject({ type: "character-device", devMajor: 1, devMinor: 3 });
  });

  it("enforces maxEntries and maxPathBytes", async () => {
    const many = tarArchive(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, content: "" })));
    expect(await failure(readAll(many, { maxEntries: 4 }))).toBeInstanceOf(LimitExceededError);
    expect(await readAll(many, { maxEntries: 5 })).toHaveLength(5);

    const deep = tarArchive([{ name: "x", pax: [["path", "a/".repeat(3000)]] }]);
    expect(await failure(readAll(deep))).toBeInstanceOf(LimitExceededError);
    const gnu = tarArchive([{ name: "x", gnuLongName: "b/".repeat(3000), format: "gnu" }]);
    expect(await failure(readAll(gnu))).toBeInstanceOf(LimitExceededError);
    const link = tarArchive([{ name: "l", type: "2", pax: [["linkpath", "c/".repeat(3000)]] }]);
    expect(await failure(readAll(link))).toBeInstanceOf(LimitExceededError);
  });
});

describe("readTar refuses what the security review found", () => {
  const refused = async (
    entries: RawTarEntry[],
    kind: typeof TarError | typeof UnsafeEntryError,
    entry: string,
    message?: RegExp,
  ) => {
    const error = await failure(readAll(tarArchive(entries), { location: { file: "bad.apk" } }));
    expect(error).toBeInstanceOf(kind);
    expect(error.location).toMatchObject({ file: "bad.apk", entry });
    if (message !== undefined) expect(error.message).toMatch(message);
    return error;
  };

  describe("finding 1: PAX global headers", () => {
    it("refuses a global path that would rename every later entry (d1)", async () => {
      await refused(
        [
          { name: ".wh..wh..opq", content: "", paxGlobal: [["path", "usr/share/doc/pkg/README"]] },
          { name: "usr/bin/.wh.sudo", content: "" },
          { name: "bin", type: "2", linkname: "/tmp/rev/outside" },
          { name: "bin/evil", content: "through-symlink\n" },
        ],
        TarError,
        "pax_global_header",
        /global header sets path/,
      );
    });

    it("refuses a global size that would make file bodies headers (d1b)", async () => {
      const inner = tarArchive([{ name: "usr/bin/.wh.sudo", content: "" }], { end: false });
      await refused(
        [{ name: "usr/share/doc/x", content: inner, paxGlobal: [["size", "0"]] }],
        TarError,
        "pax_global_header",
        /global header sets size/,
      );
    });

    it("refuses a global linkpath and global GNU sparse records", async () => {
      await refused(
        [{ name: "l", type: "2", linkname: "ok", paxGlobal: [["linkpath", "/etc/shadow"]] }],
        TarError,
        "pax_global_header",
      );
      await refused(
        [{ name: "f", content: "", paxGlobal: [["GNU.sparse.name", "etc/shadow"]] }],
        TarError,
        "pax_global_header",
      );
    });

    it("ignores other global records, as apk-tools does", async () => {
      const tar = tarArchive([
        {
          name: "usr/bin/tool",
          content: "x",
          paxGlobal: [
            ["comment", "6d95969d7b7"],
            ["SCHILY.xattr.user.x", "1"],
          ],
        },
        { name: "usr/bin/other", content: "y", pax: [["mtime", "5"]] },
      ]);
      const entries = await readAll(tar);
      expect(entries.map((e) => [e.entry.path, e.content])).toEqual([
        ["usr/bin/tool", "x"],
        ["usr/bin/other", "y"],
      ]);
      expect(entries[0]?.entry.pax).toBeUndefined();
      expect(entries[0]?.entry.xattrs).toBeUndefined();
      expect(entries[1]?.entry.pax).toEqual({ mtime: "5" });
    });
  });

  describe("finding 2: content on entries other than files", () => {
    it("refuses a hard link with a body that other readers parse as headers (d4)", async () => {
      const hidden = tarArchive(
        [
          { name: ".wh..wh..opq", content: "" },
          { name: "etc/sudoers.d/evil", content: "ALL ALL=(ALL) NOPASSWD: ALL\n", mode: 0o440 },
        ],
        { end: false },
      );
      await refused(
        [
          { name: "usr/bin/a", content: "a" },
          { name: "usr/bin/b", type: "1", linkname: "usr/bin/a", content: hidden },
        ],
        TarError,
        "usr/bin/b",
        /hardlink has 1536 bytes of content/,
      );
    });

    it("refuses a symlink or directory with a size", async () => {
      await refused([{ name: "s", type: "2", linkname: "x", size: 512 }], TarError, "s");
      await refused([{ name: "d/", type: "5", content: "x".repeat(600) }], TarError, "d/");
    });

    it("still accepts hard links without content, reported with size 0", async () => {
      const entries = await readAll(
        tarArchive([
          { name: "usr/share/zoneinfo/UTC", content: "TZif" },
          { name: "usr/share/zoneinfo/Etc/UTC", type: "1", linkname: "usr/share/zoneinfo/UTC" },
          { name: "usr/share/zoneinfo/Zulu", type: "1", linkname: "usr/share/zoneinfo/Etc/UTC" },
        ]),
      );
      expect(entries.map((e) => [e.entry.type, e.entry.size])).toEqual([
        ["file", 4],
        ["hardlink", 0],
        ["hardlink", 0],
      ]);
    });
  });

  describe("finding 3: going through symlinks", () => {
    it("refuses a hard link to a symlink (hl)", async () => {
      await refused(
        [
          { name: "s", type: "2", linkname: "/tmp/rev/outside" },
          { name: "h", type: "1", linkname: "s" },
          { name: "h/hl-evil", content: "pwned-by-hardlink\n" },
        ],
        UnsafeEntryError,
        "h",
        /hard link to the symlink s/,
      );
    });

    it("refuses a symlink repeated as a directory (dup)", async () => {
      await refused(
        [
          { name: "d", type: "2", linkname: "/tmp/rev/outside" },
          { name: "d", type: "5" },
          { name: "d/dup-evil", content: "pwned-by-dup\n" },
        ],
        UnsafeEntryError,
        "d",
        /already in the archive as a symlink/,
      );
    });

    it("refuses any other repeated path and a later symlink over an implied directory", async () => {
      await refused(
        [
          { name: "etc/passwd", content: "a" },
          { name: "./etc/passwd", content: "b" },
        ],
        UnsafeEntryError,
        "etc/passwd",
      );
      await refused(
        [
          { name: "d/", type: "5" },
          { name: "d", type: "2", linkname: "/etc" },
        ],
        UnsafeEntryError,
        "d",
      );
      await refused(
        [
          { name: "a/b", content: "" },
          { name: "a", type: "2", linkname: "/etc" },
        ],
        UnsafeEntryError,
        "a",
      );
      await refused(
        [
          { name: "f", content: "" },
          { name: "f/x", content: "" },
        ],
        UnsafeEntryError,
        "f/x",
        /which is a file/,
      );
    });

    it("accepts a directory repeated, and directories implied before their entry", async () => {
      const entries = await readAll(
        tarArchive([
          { name: "usr/", type: "5" },
          { name: "usr/bin/tool", content: "" },
          { name: "usr/bin/", type: "5" },
          { name: "./usr", type: "5" },
        ]),
      );
      expect(entries.map((e) => e.entry.path)).toEqual(["usr", "usr/bin/tool", "usr/bin", "usr"]);
    });
  });

  describe("finding 4: symlink chains", () => {
    it("refuses a target that climbs after a normal component (chain)", async () => {
      await refused(
        [
          { name: "a", type: "5" },
          { name: "a/b", type: "2", linkname: ".." },
          { name: "c", type: "2", linkname: "a/b/../outside" },
        ],
        UnsafeEntryError,
        "c",
        /after a normal component/,
      );
      await refused(
        [{ name: "usr/lib/x", type: "2", linkname: "../lib/../../etc" }],
        UnsafeEntryError,
        "usr/lib/x",
      );
      await refused(
        [{ name: "usr/x", type: "2", linkname: "./../../etc" }],
        UnsafeEntryError,
        "usr/x",
        /escapes the root/,
      );
    });

    it("refuses a NUL byte in a symlink target", async () => {
      await refused(
        [{ name: "l", type: "2", pax: [["linkpath", "ok\0/../../etc"]] }],
        UnsafeEntryError,
        "l",
        /NUL/,
      );
    });

    it("accepts leading climbs that stay inside", async () => {
      const entries = await readAll(
        tarArchive([
          { name: "a", type: "5" },
          { name: "a/b", type: "2", linkname: ".." },
          { name: "usr/lib/up", type: "2", linkname: "./../../bin/sh" },
          { name: "usr/lib/abs", type: "2", linkname: "/usr/../lib/x" },
        ]),
      );
      expect(entries.map((e) => e.entry.linkTarget)).toEqual([
        undefined,
        "..",
        "./../../bin/sh",
        "/usr/../lib/x",
      ]);
    });
  });

  describe("finding 6: headers apk-tools reads differently", () => {
    it("refuses a header with an empty name and a ustar prefix (d2)", async () => {
      const hidden = tarArchive([{ name: "etc/sudoers.d/evil", content: "ALL\n" }], { end: false });
      await refused(
        [
          { name: "usr/bin/a", content: "a" },
          { name: "", prefix: "usr/share", content: hidden },
        ],
        TarError,
        "usr/share/",
        /empty name field/,
      );
    });

    it("refuses a GNU long link (K) header", async () => {
      await refused(
        [{ name: "l", type: "2", linkname: "short", gnuLongLink: "/etc/shadow", format: "gnu" }],
        TarError,
        "././@LongLink",
        /long link/,
      );
    });

    it("refuses a PAX size that differs from the header's", async () => {
      const inner = tarArchive([{ name: "usr/bin/.wh.sudo", content: "" }], { end: false });
      await refused(
        [{ name: "usr/share/doc/x", content: inner, pax: [["size", "0"]] }],
        TarError,
        "usr/share/doc/x",
        /PAX size 0 differs/,
      );
      // The same size in both places is fine.
      const same = tarArchive([{ name: "f", content: "abc", pax: [["size", "3"]] }]);
      expect((await readAll(same)).map((e) => e.content)).toEqual(["abc"]);
    });

    it("refuses a GNU header with data in the prefix area", async () => {
      await refused(
        [{ name: "evil", content: "", format: "gnu", prefix: "etc/sudoers.d" }],
        TarError,
        "evil",
        /GNU header has data in the ustar prefix/,
      );
    });

    it("refuses GNU sparse records in a PAX header", async () => {
      await refused(
        [{ name: "f", content: "", pax: [["GNU.sparse.name", "etc/shadow"]] }],
        TarError,
        "PaxHeaders/f",
      );
    });
  });
});

describe("readTarGzip", () => {
  it("reads each gzip member as its own tar stream, as apk frames a signed index", async () => {
    const signature = gzipMember(
      tarArchive([{ name: ".SIGN.RSA.key.rsa.pub", content: "sig", format: "gnu" }], {
        end: false,
      }),
    );
    const index = gzipMember(
      tarArchive([
        { name: "DESCRIPTION", content: "v3.19" },
        { name: "APKINDEX", content: "C:Q1...\nP:a\n\n" },
      ]),
    );
    const { members, files } = await readTarGzip(concatBytes([signature, index]));
    expect(members.map((m) => [m.offset, m.length])).toEqual([
      [0, signature.length],
      [signature.length, index.length],
    ]);
    expect(files.map((f) => [f.entry.path, f.member, text(f.content)])).toEqual([
      [".SIGN.RSA.key.rsa.pub", 0, "sig"],
      ["DESCRIPTION", 1, "v3.19"],
      ["APKINDEX", 1, "C:Q1...\nP:a\n\n"],
    ]);
  });

  it("names the file in its errors", async () => {
    const error = await failure(
      readTarGzip(new Uint8Array([1, 2, 3]), { file: "APKINDEX.tar.gz" }),
    );
    expect(error).toBeInstanceOf(GzipError);
    expect(error.message).toContain("APKINDEX.tar.gz");
  });
});

describeWithFixtures("readTarGzip on real indexes", (fixtures) => {
  const read = (file: string) => new Uint8Array(fs.readFileSync(path.join(fixtures, file)));

  it("reads Alpine's v3.16 APKINDEX.tar.gz and its signature verifies over member 1", async () => {
    const bytes = read("apko/apk/testdata/alpine-316/APKINDEX.tar.gz");
    const { members, files } = await readTarGzip(bytes, { file: "alpine-316/APKINDEX.tar.gz" });
    expect(files.map((f) => [f.entry.path, f.member])).toEqual([
      [".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", 0],
      ["DESCRIPTION", 1],
      ["APKINDEX", 1],
    ]);
    const keyName = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";
    const keyring = createKeyring([
      { name: keyName, pem: fs.readFileSync(path.join(fixtures, "alpine-keys", keyName), "utf8") },
    ]);
    const signed = members[1];
    const signedBytes = bytes.subarray(
      signed?.offset ?? 0,
      (signed?.offset ?? 0) + (signed?.length ?? 0),
    );
    const signature = files[0];
    expect(
      verifySignature(
        keyring,
        signature?.entry.path ?? "",
        signature?.content ?? new Uint8Array(),
        signedBytes,
      ),
    ).toBe("ok");
    expect(text(files[2]?.content ?? new Uint8Array()).split("\n\n").length).toBeGreaterThan(4900);
  });

  it.each([
    "go-apkutils/malformed/APKINDEX.tar.gz",
    "go-apkutils/malformed/APKINDEX.unsigned.tar.gz",
    "go-apkutils/malformed/signature.tar.gz",
  ])("gives a typed error naming the file for the malformed %s", async (file) => {
    const error = await failure(readTarGzip(read(file), { file }));
    expect(error.message).toContain(file);
  });
});
