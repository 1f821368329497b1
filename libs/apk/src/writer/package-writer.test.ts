import { createHash, generateKeyPairSync } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  AtomError,
  PackageFormatError,
  UnsafeEntryError,
  UntrustedSignatureError,
  VersionError,
} from "../errors.js";
import { indexEntryFromPackage } from "../index/index-entry-from-package.js";
import { readPackage } from "../package/package-reader.js";
import { createKeyring } from "../signature/keyring.js";
import type { ApkSigner } from "../signature/signer.js";
import type { PackageFile, PackageFileTree, WritePackageOptions } from "./package-writer.js";
import { filesFromTree, writePackage } from "./package-writer.js";

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keyName = "builder@example.org-5f00d.rsa.pub";
const signer = (algorithm: "sha1" | "sha256"): ApkSigner => ({
  keyName,
  algorithm,
  privateKeyPem: keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
});
const keyring = createKeyring([
  { name: keyName, pem: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
]);
const text = (value: string) => new TextEncoder().encode(value);

const input: WritePackageOptions = {
  pkginfo: {
    name: "hello",
    version: "2.12.1-r0",
    arch: "x86_64",
    description: "the GNU hello world program",
    url: "https://www.gnu.org/software/hello/",
    license: "GPL-3.0-or-later",
    origin: "hello",
    maintainer: "Jane Doe <jane@example.org>",
    packager: "Tailor",
    commit: "0123456789abcdef0123456789abcdef01234567",
    depends: ["so:libc.musl-x86_64.so.1", "busybox>=1.36"],
    provides: ["cmd:hello=2.12.1-r0"],
    replaces: ["hello-legacy"],
    installIf: ["hello-base", "locales"],
    providerPriority: 10,
    triggers: ["/usr/share/hello/*"],
  },
  files: [
    { path: "/usr/bin/hello", type: "file", mode: 0o755, content: text("#!/bin/sh\necho hello\n") },
    { path: "/usr/share/hello/greeting", type: "file", content: text("hello, world\n") },
    { path: "/usr/bin/hi", type: "symlink", linkTarget: "hello" },
    { path: "/etc/hello", type: "directory", mode: 0o700 },
  ],
  scripts: [
    { name: ".post-install", content: "#!/bin/sh\nexit 0\n" },
    { name: ".trigger", content: "#!/bin/sh\necho triggered\n" },
  ],
  mtime: 1700000000,
  signer: signer("sha256"),
};

describe("writePackage", () => {
  it("writes a signed package readPackage reads back with the same fields, checksum, datahash and signature", async () => {
    const bytes = await writePackage(input);
    const pkg = await readPackage(bytes, { file: "hello.apk", keyring });

    expect(pkg.signatures).toEqual([
      { entry: `.SIGN.RSA256.${keyName}`, algorithm: "sha256", keyName, verdict: "ok" },
    ]);
    expect(pkg.datahash.ok).toBe(true);
    const control = bytes.subarray(
      pkg.segments.control.offset,
      pkg.segments.control.offset + pkg.segments.control.length,
    );
    expect(pkg.checksum).toBe(`Q1${createHash("sha1").update(control).digest("base64")}`);

    expect(pkg.pkginfo).toMatchObject({
      pkgname: "hello",
      pkgver: "2.12.1-r0",
      arch: "x86_64",
      pkgdesc: "the GNU hello world program",
      url: "https://www.gnu.org/software/hello/",
      license: "GPL-3.0-or-later",
      origin: "hello",
      maintainer: "Jane Doe <jane@example.org>",
      packager: "Tailor",
      commit: "0123456789abcdef0123456789abcdef01234567",
      builddate: 1700000000,
      depend: ["so:libc.musl-x86_64.so.1", "busybox>=1.36"],
      provides: ["cmd:hello=2.12.1-r0"],
      replaces: ["hello-legacy"],
      installIf: ["hello-base", "locales"],
      providerPriority: 10,
      triggers: ["/usr/share/hello/*"],
      size: 21 + 13,
    });
    expect(pkg.scripts.map((s) => s.name)).toEqual([".post-install", ".trigger"]);
    expect(new TextDecoder().decode(pkg.scripts[1]?.content)).toBe("#!/bin/sh\necho triggered\n");

    // Parents are added, paths sorted, owners and times as given.
    expect(pkg.entries.map((e) => [e.path, e.type, e.mode])).toEqual([
      ["etc", "directory", 0o755],
      ["etc/hello", "directory", 0o700],
      ["usr", "directory", 0o755],
      ["usr/bin", "directory", 0o755],
      ["usr/bin/hello", "file", 0o755],
      ["usr/bin/hi", "symlink", 0o777],
      ["usr/share", "directory", 0o755],
      ["usr/share/hello", "directory", 0o755],
      ["usr/share/hello/greeting", "file", 0o644],
    ]);
    expect(pkg.entries.every((e) => e.uid === 0 && e.gid === 0 && e.mtime === 1700000000)).toBe(
      true,
    );
    const hello = pkg.entries.find((e) => e.path === "usr/bin/hello");
    expect(hello?.checksum).toBe(
      createHash("sha1").update("#!/bin/sh\necho hello\n").digest("hex"),
    );
    const hi = pkg.entries.find((e) => e.path === "usr/bin/hi");
    expect(hi?.checksum).toBe(createHash("sha1").update("hello").digest("hex"));

    expect(indexEntryFromPackage(pkg, bytes.length)).toMatchObject({
      checksum: pkg.checksum,
      name: "hello",
      size: bytes.length,
      installedSize: 34,
      installIf: ["hello-base", "locales"],
    });
  });

  it("writes a metapackage without files", async () => {
    const bytes = await writePackage({
      pkginfo: { name: "meta", version: "1-r0", arch: "noarch", depends: ["busybox"] },
      files: [],
    });
    const pkg = await readPackage(bytes);
    expect(pkg.entries).toEqual([]);
    expect(pkg.pkginfo).toMatchObject({ pkgname: "meta", size: 0, depend: ["busybox"] });
    expect(pkg.datahash.ok).toBe(true);
  });

  it("gives the same bytes for the same input, whatever the file order", async () => {
    const first = await writePackage(input);
    const second = await writePackage({ ...input, files: [...input.files].reverse() });
    expect(Buffer.compare(first, second)).toBe(0);
  });

  it("lays the package out as abuild does: signature, cut control, data padded to 10240", async () => {
    const bytes = await writePackage({ ...input, signer: signer("sha1") });
    const pkg = await readPackage(bytes, { keyring });
    expect(pkg.signatures[0]?.entry).toBe(`.SIGN.RSA.${keyName}`);
    expect(pkg.segments.signature?.offset).toBe(0);
    expect(pkg.segments.control.offset).toBe(pkg.segments.signature?.length);
    const controlTar = gunzipSync(
      bytes.subarray(pkg.segments.control.offset, pkg.segments.data.offset),
    );
    // Cut: the last block is content, not an end-of-archive block.
    expect(controlTar.subarray(controlTar.length - 512).some((byte) => byte !== 0)).toBe(true);
    expect(pkg.segments.data.uncompressedLength % 10240).toBe(0);
    // PAX header, its records, then .PKGINFO's header and text.
    const size = Number.parseInt(controlTar.subarray(1024 + 124, 1024 + 135).toString("latin1"), 8);
    const pkginfo = new TextDecoder().decode(controlTar.subarray(1536, 1536 + size));
    expect(pkginfo.startsWith("pkgname = hello\n")).toBe(true);
    expect(pkginfo.endsWith(`datahash = ${pkg.datahash.actual}\n`)).toBe(true);
  });

  it("writes an unsigned package that is untrusted under a keyring", async () => {
    const { signer: _ignored, ...unsigned } = input;
    const bytes = await writePackage(unsigned);
    const pkg = await readPackage(bytes);
    expect(pkg.signatures).toEqual([]);
    expect(pkg.segments.signature).toBeUndefined();
    await expect(readPackage(bytes, { keyring })).rejects.toBeInstanceOf(UntrustedSignatureError);
  });

  it("keeps hard links after the file they link to, swapping roles when the link sorts first", async () => {
    const bytes = await writePackage({
      pkginfo: { name: "links", version: "1-r0", arch: "noarch" },
      files: [
        { path: "z/real", type: "file", content: text("data") },
        { path: "a/alias", type: "hardlink", linkTarget: "/z/real" },
      ],
    });
    const pkg = await readPackage(bytes);
    const byPath = new Map(pkg.entries.map((e) => [e.path, e]));
    expect(byPath.get("a/alias")).toMatchObject({ type: "file", size: 4 });
    expect(byPath.get("z/real")).toMatchObject({ type: "hardlink", linkTarget: "a/alias" });
    expect(pkg.pkginfo.size).toBe(4);
  });

  it.each<[string, Partial<WritePackageOptions>, new (...args: never[]) => Error]>([
    [
      "a duplicate path",
      {
        files: [
          { path: "a", type: "file" },
          { path: "/a", type: "file" },
        ],
      },
      PackageFormatError,
    ],
    ["a path with ..", { files: [{ path: "../etc/passwd", type: "file" }] }, UnsafeEntryError],
    [
      "a file used as a directory",
      {
        files: [
          { path: "a", type: "file" },
          { path: "a/b", type: "file" },
        ],
      },
      PackageFormatError,
    ],
    [
      "a hard link to nothing",
      { files: [{ path: "a", type: "hardlink", linkTarget: "b" }] },
      PackageFormatError,
    ],
    [
      "an unknown script",
      { scripts: [{ name: ".install" as ".pre-install", content: "" }] },
      PackageFormatError,
    ],
    ["triggers without a .trigger script", { scripts: [] }, PackageFormatError],
    ["an invalid version", { pkginfo: { ...input.pkginfo, version: "1..2" } }, VersionError],
    ["an invalid dependency", { pkginfo: { ...input.pkginfo, depends: ["foo>="] } }, AtomError],
  ])("refuses %s with a typed error", async (_what, change, type) => {
    await expect(writePackage({ ...input, ...change })).rejects.toBeInstanceOf(type);
  });
});

describe("filesFromTree", () => {
  const tree = (entries: (PackageFile & { size: number })[]): PackageFileTree => ({
    async *list() {
      for (const { content: _content, ...entry } of entries) {
        yield { ...entry, mode: entry.mode ?? 0o644 };
      }
    },
    async read(path) {
      const found = entries.find((e) => e.path === path);
      return found?.content ?? new Uint8Array(0);
    },
  });

  it("reads every regular file of the tree for writePackage", async () => {
    const files = await filesFromTree(
      tree([
        { path: "usr/bin", type: "directory", mode: 0o755, size: 0 },
        { path: "usr/bin/tool", type: "file", mode: 0o755, size: 3, content: text("abc") },
        { path: "usr/bin/t", type: "symlink", mode: 0o777, size: 0, linkTarget: "tool" },
      ]),
    );
    expect(files).toEqual([
      { path: "usr/bin", type: "directory", mode: 0o755 },
      { path: "usr/bin/tool", type: "file", mode: 0o755, content: text("abc") },
      { path: "usr/bin/t", type: "symlink", mode: 0o777, linkTarget: "tool" },
    ]);
    const pkg = await readPackage(
      await writePackage({ pkginfo: { name: "t", version: "1-r0", arch: "noarch" }, files }),
    );
    expect(pkg.entries.map((e) => e.path)).toEqual(["usr", "usr/bin", "usr/bin/t", "usr/bin/tool"]);
  });

  it("refuses a file whose content does not have the listed size", async () => {
    await expect(
      filesFromTree(
        tree([{ path: "f", type: "file", mode: 0o644, size: 10, content: text("short") }]),
      ),
    ).rejects.toBeInstanceOf(PackageFormatError);
  });
});
