import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import {
  buildPackage,
  chunked,
  concatBytes,
  generateTestKey,
  gzipMember,
  sha256,
  tarArchive,
} from "../../test/synthetic-archives.js";
import {
  ApkError,
  BadSignatureError,
  FieldError,
  GzipError,
  IntegrityError,
  LimitExceededError,
  PackageFormatError,
  type SignatureError,
  TarError,
  UnsafeEntryError,
  UntrustedSignatureError,
} from "../errors.js";
import { createKeyring, type Keyring } from "../signature/keyring.js";
import { readTar, readTarGzip } from "../tar/tar-reader.js";
import { type ApkPackage, type PackageEntry, readPackage } from "./package-reader.js";

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

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Checks what the builder relies on: each segment's range and digests are exact. */
async function expectExactSegments(bytes: Uint8Array, pkg: ApkPackage): Promise<void> {
  const { signature, control, data } = pkg.segments;
  const parts = [signature, control, data].filter((s) => s !== undefined);
  expect(parts[0]?.offset).toBe(0);
  for (const segment of parts) {
    const slice = bytes.subarray(segment.offset, segment.offset + segment.length);
    expect(sha256(slice)).toBe(segment.sha256);
    if (segment.length > 0) {
      const inflated = zlib.gunzipSync(slice); // multi-member gzip is fine for gunzip
      expect(inflated.length).toBe(segment.uncompressedLength);
      expect(sha256(inflated)).toBe(segment.uncompressedSha256);
    }
  }
  expect(control.offset).toBe(signature === undefined ? 0 : signature.offset + signature.length);
  expect(data.offset).toBe(control.offset + control.length);
  expect(data.offset + data.length).toBe(bytes.length);
  expect(pkg.datahash.actual).toBe(data.sha256);
  // The data segment alone is a complete tar: what an OCI layer needs.
  if (data.length > 0) {
    const layer = zlib.gunzipSync(bytes.subarray(data.offset, data.offset + data.length));
    const paths: string[] = [];
    for await (const { entry } of readTar(layer)) paths.push(entry.path);
    expect(paths).toEqual(pkg.entries.map((e) => e.path));
  }
}

describe("readPackage on synthetic packages", () => {
  const key = generateTestKey("builder-5e69ca50.rsa.pub");
  const keyring = createKeyring([{ name: key.name, pem: key.publicPem }]);
  const data = [
    { name: "usr/", type: "5", mode: 0o755 },
    { name: "usr/bin/", type: "5", mode: 0o755 },
    {
      name: "usr/bin/hello",
      mode: 0o755,
      content: "#!/bin/sh\necho hello\n",
      pax: [["APK-TOOLS.checksum.SHA1", "0123456789abcdef0123456789abcdef01234567"]] as [
        string,
        string,
      ][],
    },
    { name: "usr/bin/hi", type: "2", linkname: "hello" },
    { name: "usr/bin/hello2", type: "1", linkname: "usr/bin/hello" },
  ];

  it("reads a signed package: pkginfo, signature, scripts, entries, exact segments", async () => {
    const built = buildPackage({
      signers: [{ key, type: "RSA256" }],
      control: [{ name: ".post-install", mode: 0o755, content: "#!/bin/sh\nexit 0\n" }],
      data,
    });
    const pkg = await readPackage(built.bytes, { file: "hello.apk", keyring });
    expect(pkg.pkginfo).toMatchObject({ pkgname: "synthetic", pkgver: "1.0-r0", arch: "x86_64" });
    expect(pkg.signatures).toEqual([
      { entry: `.SIGN.RSA256.${key.name}`, algorithm: "sha256", keyName: key.name, verdict: "ok" },
    ]);
    expect(pkg.scripts.map((s) => [s.name, decode(s.content)])).toEqual([
      [".post-install", "#!/bin/sh\nexit 0\n"],
    ]);
    expect(pkg.entries).toEqual<PackageEntry[]>([
      {
        path: "usr",
        type: "directory",
        mode: 0o755,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mtime: 1_700_000_000,
        size: 0,
      },
      {
        path: "usr/bin",
        type: "directory",
        mode: 0o755,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mtime: 1_700_000_000,
        size: 0,
      },
      {
        path: "usr/bin/hello",
        type: "file",
        mode: 0o755,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mtime: 1_700_000_000,
        size: 21,
        checksum: "0123456789abcdef0123456789abcdef01234567",
      },
      {
        path: "usr/bin/hi",
        type: "symlink",
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mtime: 1_700_000_000,
        size: 0,
        linkTarget: "hello",
      },
      {
        path: "usr/bin/hello2",
        type: "hardlink",
        mode: 0o644,
        uid: 0,
        gid: 0,
        uname: "root",
        gname: "root",
        mtime: 1_700_000_000,
        size: 0,
        linkTarget: "usr/bin/hello",
      },
    ]);
    expect(pkg.datahash.ok).toBe(true);
    expect(pkg.installedSize).toBe(4096);
    expect(pkg.checksum).toBe(`Q1${Buffer.from(await sha1(built.control)).toString("base64")}`);
    expect(pkg.segments.signature?.length).toBe(built.signature?.length);
    await expectExactSegments(built.bytes, pkg);
  });

  it("gives the same result for any chunking of a streamed input", async () => {
    const built = buildPackage({ signers: [{ key }], data, dataMemberBytes: 1024 });
    const whole = await readPackage(built.bytes, { keyring });
    async function* stream() {
      yield* chunked(built.bytes, 11, 300);
    }
    const streamed = await readPackage(stream(), { keyring });
    expect(streamed).toEqual(whole);
    expect(whole.segments.data.members).toBeGreaterThan(1);
  });

  it("hands each data entry's content to onEntry, in order", async () => {
    const built = buildPackage({ data });
    const seen: string[] = [];
    await readPackage(built.bytes, {
      onEntry: async (entry, body) => {
        const parts: Uint8Array[] = [];
        for await (const chunk of body) parts.push(chunk);
        seen.push(`${entry.path}:${decode(concatBytes(parts))}`);
      },
    });
    expect(seen).toEqual([
      "usr:",
      "usr/bin:",
      "usr/bin/hello:#!/bin/sh\necho hello\n",
      "usr/bin/hi:",
      "usr/bin/hello2:",
    ]);
  });

  describe("signatures", () => {
    it("fails with BadSignatureError naming key and file when a trusted key's signature does not match", async () => {
      const impostor = { ...generateTestKey(key.name) }; // same name, different key
      const built = buildPackage({ signers: [{ key: impostor }] });
      const error = await failure(readPackage(built.bytes, { file: "evil.apk", keyring }));
      expect(error).toBeInstanceOf(BadSignatureError);
      expect(error.message).toContain("evil.apk");
      expect(error.message).toContain(key.name);
      // Even when signatures are optional: a trusted key said no.
      expect(
        await failure(readPackage(built.bytes, { keyring, requireSignature: false })),
      ).toBeInstanceOf(BadSignatureError);
    });

    it("fails with UntrustedSignatureError for an unknown key or no signature at all", async () => {
      const stranger = generateTestKey("stranger.rsa.pub");
      const signed = buildPackage({ signers: [{ key: stranger }] }).bytes;
      const untrusted = await failure(readPackage(signed, { file: "s.apk", keyring }));
      expect(untrusted).toBeInstanceOf(UntrustedSignatureError);
      expect((untrusted as SignatureError).verdict).toBe("untrusted");
      expect(untrusted.message).toContain("stranger.rsa.pub");

      const unsigned = buildPackage().bytes;
      const none = await failure(readPackage(unsigned, { file: "u.apk", keyring }));
      expect(none).toBeInstanceOf(UntrustedSignatureError);
      expect(none.message).toMatch(/u\.apk.*not signed/);

      // Allowed when asked, and without a keyring nothing is required.
      const pkg = await readPackage(signed, { keyring, requireSignature: false });
      expect(pkg.signatures.map((s) => s.verdict)).toEqual(["untrusted"]);
      expect((await readPackage(unsigned)).signatures).toEqual([]);
      expect(await failure(readPackage(unsigned, { requireSignature: true }))).toBeInstanceOf(
        UntrustedSignatureError,
      );
    });

    it("accepts a package whose second signature is the trusted one", async () => {
      const stranger = generateTestKey("stranger.rsa.pub");
      const built = buildPackage({ signers: [{ key: stranger }, { key, type: "RSA512" }] });
      const pkg = await readPackage(built.bytes, { keyring });
      expect(pkg.signatures.map((s) => `${s.algorithm}:${s.verdict}`)).toEqual([
        "sha1:untrusted",
        "sha512:ok",
      ]);
    });

    it("checks a package without datahash over control and data, as apk-tools does", async () => {
      const built = buildPackage({ signers: [{ key }], datahash: false, data });
      const pkg = await readPackage(built.bytes, { keyring });
      expect(pkg.signatures[0]?.verdict).toBe("ok");
      expect(pkg.datahash).toEqual({ actual: pkg.segments.data.sha256 });

      // Swapping in other data (valid gzip and tar) breaks that signature.
      const other = gzipMember(tarArchive([{ name: "etc/", type: "5" }]));
      const swapped = concatBytes([built.bytes.subarray(0, pkg.segments.data.offset), other]);
      expect(await failure(readPackage(swapped, { keyring }))).toBeInstanceOf(BadSignatureError);
    });
  });

  describe("datahash", () => {
    it("fails with IntegrityError when the data does not match", async () => {
      const built = buildPackage({ datahash: "ab".repeat(32), data });
      const error = await failure(readPackage(built.bytes, { file: "d.apk" }));
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.location).toMatchObject({ file: "d.apk", field: "datahash" });
      const pkg = await readPackage(built.bytes, { verifyDatahash: false });
      expect(pkg.datahash).toMatchObject({ expected: "ab".repeat(32), ok: false });
    });

    it("reports a mismatch rather than a tar error when other bytes replace the data", async () => {
      const built = buildPackage({ data });
      const garbage = gzipMember(new TextEncoder().encode("not a tar at all\n".repeat(64)));
      const bytes = concatBytes([
        built.bytes.subarray(0, built.bytes.length - built.data.length),
        garbage,
      ]);
      const error = await failure(readPackage(bytes));
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.cause).toBeInstanceOf(TarError);
      // Without a datahash there is nothing to compare: the tar error stands.
      const plain = buildPackage({ datahash: false, data });
      const noHash = concatBytes([
        plain.bytes.subarray(0, plain.bytes.length - plain.data.length),
        garbage,
      ]);
      expect(await failure(readPackage(noHash))).toBeInstanceOf(TarError);
    });
  });

  it("reads a package without a data member when it has no datahash (a meta package)", async () => {
    const pkg = await readPackage(buildPackage({ noData: true, datahash: false }).bytes);
    expect(pkg.entries).toEqual([]);
    expect(pkg.segments.data).toMatchObject({ length: 0, members: 0, uncompressedLength: 0 });
    expect(pkg.installedSize).toBe(4096);
    // With a datahash, apk-tools insists on the data it names.
    const error = await failure(readPackage(buildPackage({ noData: true }).bytes));
    expect(error).toBeInstanceOf(IntegrityError);
  });

  describe("structure", () => {
    it.each([
      [".INSTALL", "APK v1"],
      ["usr/bin/early", "data entry inside the control member"],
      [".SIGN.RSA.late.rsa.pub", "signature entry outside"],
      ["sub/.hidden", "data entry"],
    ])("refuses the control entry %s", async (name, why) => {
      const built = buildPackage({ control: [{ name, content: "x" }] });
      const error = await failure(readPackage(built.bytes, { file: "c.apk" }));
      expect(error).toBeInstanceOf(PackageFormatError);
      expect(error.location).toMatchObject({ file: "c.apk", entry: name });
      expect(error.message).toContain(why);
    });

    it("keeps other top-level control dot-files apk ignores, such as melange's .melange.yaml", async () => {
      const built = buildPackage({
        control: [{ name: ".melange.yaml", content: "package: {}\n" }],
      });
      const pkg = await readPackage(built.bytes);
      expect(pkg.otherControlFiles.map((f) => f.name)).toEqual([".melange.yaml"]);
      expect(pkg.scripts).toEqual([]);
    });

    it("refuses a package without .PKGINFO, or with a bad one", async () => {
      const noPkginfo = concatBytes([
        gzipMember(tarArchive([{ name: ".post-install", content: "" }], { end: false })),
        gzipMember(tarArchive([])),
      ]);
      expect(await failure(readPackage(noPkginfo))).toBeInstanceOf(PackageFormatError);

      const twice = buildPackage({ pkginfo: "pkgname = a\npkgver = 1-r0\npkgver = 2-r0\n" });
      const error = await failure(readPackage(twice.bytes, { file: "twice.apk" }));
      expect(error).toBeInstanceOf(FieldError);
      expect(error.location).toMatchObject({
        file: "twice.apk",
        entry: ".PKGINFO",
        field: "pkgver",
        line: 3,
      });
    });

    it("refuses a signature member holding anything but signatures", async () => {
      const built = buildPackage({ signers: [{ key }] });
      const mixed = gzipMember(
        tarArchive(
          [
            { name: `.SIGN.RSA.${key.name}`, content: "sig" },
            { name: ".PKGINFO", content: "pkgname = a\npkgver = 1-r0\n" },
          ],
          { end: false },
        ),
      );
      const bytes = concatBytes([mixed, built.control, built.data]);
      const error = await failure(readPackage(bytes));
      expect(error).toBeInstanceOf(PackageFormatError);
      expect(error.location.entry).toBe(".PKGINFO");
      // A signature member with nothing after it.
      expect(await failure(readPackage(built.signature ?? new Uint8Array()))).toBeInstanceOf(
        PackageFormatError,
      );
    });

    it("refuses a .PKGINFO over 1 MiB before reading it", async () => {
      const huge = `pkgname = a\npkgver = 1-r0\n${"# padding padding padding\n".repeat(45_000)}`;
      const error = await failure(
        readPackage(buildPackage({ pkginfo: huge }).bytes, { file: "big.apk" }),
      );
      expect(error).toBeInstanceOf(LimitExceededError);
      expect(error.location).toMatchObject({ file: "big.apk", entry: ".PKGINFO" });
    });

    it("refuses unsafe data entries, naming the file and entry", async () => {
      for (const entry of [
        { name: "../x", content: "" },
        { name: "/abs", content: "" },
        { name: "usr/.wh.gone", content: "" },
        { name: "dev/console", type: "3", devmajor: 5, devminor: 1 },
        { name: "usr/bin/h", type: "1", linkname: "etc/shadow" },
        { name: "usr/lib/l", type: "2", linkname: "../../../root" },
      ]) {
        const error = await failure(
          readPackage(buildPackage({ data: [entry] }).bytes, { file: "u.apk" }),
        );
        expect(error, entry.name).toBeInstanceOf(UnsafeEntryError);
        expect(error.message).toContain("u.apk");
        expect(error.location.entry).toBe(entry.name);
      }
    });
  });

  describe("bad input never crashes or hangs", () => {
    const built = buildPackage({ signers: [{ key }], data });

    it("truncated at every member boundary and in between: GzipError with the file", async () => {
      const cuts = [
        1,
        9,
        20,
        built.signature?.length ?? 0,
        built.bytes.length - built.data.length + 3,
        built.bytes.length - 4,
      ];
      for (const cut of cuts) {
        const error = await failure(
          readPackage(built.bytes.subarray(0, cut), { file: "t.apk", keyring }),
        );
        expect(error, `cut at ${cut}`).toBeInstanceOf(ApkError);
        expect(error.message).toContain("t.apk");
      }
      const inData = await failure(readPackage(built.bytes.subarray(0, built.bytes.length - 4)));
      expect(inData).toBeInstanceOf(GzipError);
    });

    it("corrupt CRC: GzipError", async () => {
      const bytes = built.bytes.slice();
      bytes[bytes.length - 6] = (bytes[bytes.length - 6] ?? 0) ^ 0x55;
      expect(await failure(readPackage(bytes, { keyring }))).toBeInstanceOf(GzipError);
    });

    it("a gzip of something that is not a tar: TarError", async () => {
      const notTar = gzipMember(
        new TextEncoder().encode("<html>not a package</html>\n".repeat(40)),
      );
      expect(await failure(readPackage(notTar))).toBeInstanceOf(TarError);
    });

    it("a bad header checksum in the data tar: TarError naming the entry", async () => {
      const bad = buildPackage({
        datahash: false,
        data: [{ name: "usr/x", content: "1", checksumDelta: 3 }],
      });
      const error = await failure(readPackage(bad.bytes, { file: "b.apk" }));
      expect(error).toBeInstanceOf(TarError);
      expect(error.location).toMatchObject({ file: "b.apk", entry: "usr/x" });
    });

    it("an expansion bomb in the data: LimitExceededError, quickly", async () => {
      const zeros = new Uint8Array(64 * 1024 * 1024);
      const bomb = buildPackage({ datahash: false, data: [{ name: "zeros", content: zeros }] });
      expect(bomb.bytes.length).toBeLessThan(zeros.length / 500);
      const started = performance.now();
      const error = await failure(readPackage(bomb.bytes, { limits: { maxExpansionRatio: 50 } }));
      expect(error).toBeInstanceOf(LimitExceededError);
      expect(performance.now() - started).toBeLessThan(3000);
      // And the total size limit, whatever the ratio.
      const capped = await failure(
        readPackage(bomb.bytes, {
          limits: { maxExpansionRatio: 1e9, maxUncompressedBytes: 32 * 1024 * 1024 },
        }),
      );
      expect(capped).toBeInstanceOf(LimitExceededError);
      expect(capped.message).toMatch(/maxUncompressedBytes/);
    });
  });
});

describeWithFixtures("readPackage on real packages", (fixtures) => {
  const bytesOf = (file: string) => new Uint8Array(fs.readFileSync(path.join(fixtures, file)));
  const keyFile = (dir: string, name: string) => ({
    name,
    pem: fs.readFileSync(path.join(fixtures, dir, name), "utf8"),
  });
  const keyring: Keyring = createKeyring([
    ...fs
      .readdirSync(path.join(fixtures, "alpine-keys"))
      .map((name) => keyFile("alpine-keys", name)),
    keyFile("wolfictl/pkg/dag/testdata/packages", "wolfi-signing.rsa.pub"),
    keyFile("apko-history-6c8dd7f/cli/testdata", "local-melange.rsa.pub"),
  ]);

  it("strace-5.17-r0.apk: Alpine-signed, and its checksum is the C: of Alpine's v3.16 index", async () => {
    const file = "go-apkutils/testdata/strace-5.17-r0.apk";
    const bytes = bytesOf(file);
    const pkg = await readPackage(bytes, { file, keyring });
    expect(pkg.signatures).toEqual([
      {
        entry: ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        algorithm: "sha1",
        keyName: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        verdict: "ok",
      },
    ]);
    expect(pkg.pkginfo).toMatchObject({ pkgname: "strace", pkgver: "5.17-r0", size: 1708032 });
    expect(pkg.datahash.ok).toBe(true);
    expect(pkg.installedSize).toBe(1708032);

    const index = await readTarGzip(bytesOf("apko/apk/testdata/alpine-316/APKINDEX.tar.gz"));
    const apkindex = decode(
      index.files.find((f) => f.entry.path === "APKINDEX")?.content ?? new Uint8Array(),
    );
    const stanza = apkindex.split("\n\n").find((s) => s.includes("\nP:strace\n"));
    expect(stanza).toContain("\nV:5.17-r0\n");
    expect(stanza?.split("\n")[0]).toBe(`C:${pkg.checksum}`);
    expect(stanza).toContain(`\nS:${bytes.length}\n`);
    await expectExactSegments(bytes, pkg);
  });

  it("alpine-baselayout (aarch64 key): install scripts and PAX checksums", async () => {
    const file = "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk";
    const pkg = await readPackage(bytesOf(file), { file, keyring });
    expect(pkg.signatures[0]).toMatchObject({
      keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub",
      verdict: "ok",
    });
    expect(pkg.scripts.map((s) => s.name)).toEqual([
      ".pre-install",
      ".pre-upgrade",
      ".post-upgrade",
      ".post-install",
    ]);
    expect(decode(pkg.scripts[0]?.content ?? new Uint8Array())).toMatch(/^#!/);
    const varRun = pkg.entries.find((e) => e.path === "var/run");
    expect(varRun).toMatchObject({
      type: "symlink",
      linkTarget: "/run",
      checksum: "d7f48d673ffc70ad9d48a2be709a55ad922e1784",
    });
    expect(pkg.entries.filter((e) => e.checksum !== undefined)).toHaveLength(14);
    await expectExactSegments(bytesOf(file), pkg);
  });

  it("tzdata: data over five gzip members, hard links, local-melange signature", async () => {
    const file = "apko-history-6c8dd7f/cli/testdata/packages/aarch64/tzdata-2023c-r0.apk";
    const bytes = bytesOf(file);
    const pkg = await readPackage(bytes, { file, keyring });
    expect(pkg.segments.data.members).toBe(5);
    expect(pkg.datahash.ok).toBe(true);
    const links = pkg.entries.filter((e) => e.type === "hardlink");
    expect(links.length).toBeGreaterThan(400);
    expect(links[0]).toMatchObject({
      path: "usr/share/zoneinfo/Africa/Accra",
      linkTarget: "usr/share/zoneinfo/Africa/Abidjan",
    });
    await expectExactSegments(bytes, pkg);
  });

  it.each([
    "wolfictl/pkg/checks/testdata/hello-wolfi-2.12-r1.apk",
    "melange/pkg/sca/testdata/libcap-2.69-r0.apk",
    "melange/pkg/sca/testdata/ruby3.2-base64-0.2.0-r2.apk",
    "melange/pkg/sign/testdata/test.apk",
    "go-apkutils/testdata/curl-7.83.1-r1.apk",
    "martencassel-apk-tools/test-files/strace-5.14-r0.apk",
  ])("%s verifies with the distribution keys", async (file) => {
    const pkg = await readPackage(bytesOf(file), { file, keyring });
    expect(pkg.signatures.map((s) => s.verdict)).toContain("ok");
    expect(pkg.datahash.ok).toBe(true);
  });

  it.each([
    "melange/pkg/sca/testdata/neon-4604-r0.apk",
    "melange/pkg/sca/testdata/aws-c-s3-0.4.9-r0.apk",
  ])("doctored %s fails its signature, and its datahash without a keyring", async (file) => {
    const signed = await failure(readPackage(bytesOf(file), { file, keyring }));
    expect(signed).toBeInstanceOf(BadSignatureError);
    expect(signed.message).toContain(file);
    expect(signed.message).toContain("wolfi-signing.rsa.pub");
    const unsigned = await failure(readPackage(bytesOf(file), { file }));
    expect(unsigned).toBeInstanceOf(IntegrityError);
  });

  it.each([
    "melange/pkg/sca/testdata/perl-json-4.11-r0.apk",
    "melange/pkg/sca/testdata/bash-doc-5.2.37-r2.apk",
    "apko/apk/testdata/hello-0.1.0-r0.apk",
  ])("unsigned %s reads without a keyring and is untrusted with one", async (file) => {
    const pkg = await readPackage(bytesOf(file), { file });
    expect(pkg.signatures).toEqual([]);
    expect(pkg.datahash.ok).toBe(true);
    const error = await failure(readPackage(bytesOf(file), { file, keyring }));
    expect(error).toBeInstanceOf(UntrustedSignatureError);
  });

  it.each([
    "go-apkutils/malformed/APKINDEX.tar.gz",
    "go-apkutils/malformed/APKINDEX.unsigned.tar.gz",
    "go-apkutils/malformed/signature.tar.gz",
    "wolfictl/pkg/checks/testdata/diff/test_orig.apk",
  ])("malformed %s fails with a typed error naming the file", async (file) => {
    const error = await failure(readPackage(bytesOf(file), { file }));
    expect(error.message).toContain(file);
  });
});

async function sha1(bytes: Uint8Array): Promise<Buffer> {
  const { createHash } = await import("node:crypto");
  return createHash("sha1").update(bytes).digest();
}
