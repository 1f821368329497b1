import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { tarHeader } from "../../test/synthetic-archives.js";
import {
  ApkError,
  BadSignatureError,
  LimitExceededError,
  PackageFormatError,
  UntrustedSignatureError,
} from "../errors.js";
import { createKeyring } from "../signature/keyring.js";
import type { ApkSigner } from "../signature/signer.js";
import { readTarGzip } from "../tar/tar-reader.js";
import {
  DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES,
  readApkIndexArchive,
  writeApkIndexArchive,
} from "./apk-index-archive.js";
import { formatApkIndexText, parseApkIndexText } from "./apk-index-text.js";
import type { IndexEntry } from "./index-entry.js";

const alpineKey = (id: string) => `alpine-keys/alpine-devel@lists.alpinelinux.org-${id}.rsa.pub`;

/** Real indexes, their entry counts and the keys PROVENANCE.md says verify them. */
const realIndexes = [
  {
    file: "apko/apk/testdata/alpine-316/APKINDEX.tar.gz",
    count: 4929,
    keys: [alpineKey("6165ee59")],
  },
  {
    file: "apko/apk/testdata/alpine-317/APKINDEX.tar.gz",
    count: 5004,
    keys: [alpineKey("616ae350")],
  },
  {
    file: "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz",
    count: 5450,
    keys: [alpineKey("6165ee59")],
  },
  {
    file: "wolfictl/pkg/dag/testdata/packages/x86_64/APKINDEX.tar.gz",
    count: 47,
    keys: ["wolfictl/pkg/dag/testdata/packages/wolfi-signing.rsa.pub"],
  },
  {
    file: "apko/apk/testdata/rsa256-signed/APKINDEX.tar.gz",
    count: 1,
    keys: ["apko/apk/testdata/rsa256-signed/test-rsa256.rsa.pub"],
  },
  {
    file: "apko-history-6c8dd7f/cli/testdata/packages/x86_64/APKINDEX.tar.gz",
    count: 1,
    keys: ["apko-history-6c8dd7f/cli/testdata/local-melange.rsa.pub"],
  },
];

describeWithFixtures("APKINDEX.tar.gz, real archives", (fixtures) => {
  const bytes = (file: string) => new Uint8Array(readFileSync(join(fixtures, file)));
  const keyFile = (file: string) => ({
    name: file.slice(file.lastIndexOf("/") + 1),
    pem: readFileSync(join(fixtures, file), "utf8"),
  });

  it.each(realIndexes)(
    "$file: $count packages, signature verifies with its key",
    async ({ file, count, keys }) => {
      const keyring = createKeyring(keys.map(keyFile));
      const index = await readApkIndexArchive(bytes(file), { file, keyring });
      expect(index.entries).toHaveLength(count);
      expect(index.skipped).toEqual([]);
      expect(index.signatures.map((s) => s.verdict)).toEqual(["ok"]);
    },
  );

  it("verifies all three RSA256 signatures of apko's multi-signed index", async () => {
    const dir = "apko/apk/testdata/signing/keys";
    const keyring = createKeyring(
      readdirSync(join(fixtures, dir)).map((name) => keyFile(`${dir}/${name}`)),
    );
    const index = await readApkIndexArchive(bytes("apko/apk/testdata/signing/APKINDEX.tar.gz"), {
      keyring,
    });
    expect(index.entries).toHaveLength(16);
    expect(index.signatures).toHaveLength(3);
    expect(index.signatures.every((s) => s.verdict === "ok" && s.algorithm === "sha256")).toBe(
      true,
    );
  });

  it("refuses a real index signed by a key the keyring does not hold", async () => {
    const keyring = createKeyring([keyFile(alpineKey("616ae350"))]);
    const file = "apko/apk/testdata/alpine-316/APKINDEX.tar.gz";
    await expect(readApkIndexArchive(bytes(file), { file, keyring })).rejects.toBeInstanceOf(
      UntrustedSignatureError,
    );
    const allowed = await readApkIndexArchive(bytes(file), {
      file,
      keyring,
      requireSignature: false,
    });
    expect(allowed.signatures[0]?.verdict).toBe("untrusted");
    expect(allowed.description).toBe("v3.16.3-13-g4d933a1fa3");
  });

  it("reads the unsigned Alpine 3.23 archive, and refuses it when a signature is required", async () => {
    const file = "rusty_box/apkindex_data.gz";
    const index = await readApkIndexArchive(bytes(file), { file });
    expect(index.entries).toHaveLength(102);
    expect(index.description).toBe("3.23.3");
    expect(index.signatures).toEqual([]);
    const keyring = createKeyring([keyFile(alpineKey("6165ee59"))]);
    await expect(readApkIndexArchive(bytes(file), { file, keyring })).rejects.toThrow(
      /is not signed/,
    );
  });

  it("treats apko's .SIGN entry inside the index member as no signature", async () => {
    const index = await readApkIndexArchive(bytes("apko/apk/testdata/APKINDEX.tar.gz"));
    expect(index.entries).toHaveLength(2);
    expect(index.signatures).toEqual([]);
  });

  it.each([
    "go-apkutils/malformed/APKINDEX.tar.gz",
    "go-apkutils/malformed/APKINDEX.unsigned.tar.gz",
    "go-apkutils/malformed/signature.tar.gz",
  ])("%s (home-made, broken): refused with a typed error naming the file", async (file) => {
    // Its ".SIGN.publickeyname" is no signature apk knows, so with a keyring it is unsigned.
    const keyring = createKeyring([keyFile(alpineKey("6165ee59"))]);
    const error = await readApkIndexArchive(bytes(file), { file, keyring }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApkError);
    expect((error as ApkError).message).toContain(file);
  });

  it.each(realIndexes.slice(0, 3))(
    "$file: APKINDEX text written back is byte for byte apk's",
    async ({ file }) => {
      const { files } = await readTarGzip(bytes(file));
      const original = files.find((f) => f.entry.path === "APKINDEX")!.content;
      const text = new TextDecoder().decode(original);
      expect(formatApkIndexText(parseApkIndexText(text).entries)).toBe(text);
    },
  );
});

describe("writeApkIndexArchive / readApkIndexArchive", () => {
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signer = (algorithm: "sha1" | "sha256"): ApkSigner => ({
    keyName: "repo@example.org-1.rsa.pub",
    algorithm,
    privateKeyPem: keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  });
  const keyring = createKeyring([
    {
      name: "repo@example.org-1.rsa.pub",
      pem: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
  ]);
  const entries: IndexEntry[] = [
    {
      checksum: "Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
      name: "hello",
      version: "2.12-r1",
      arch: "x86_64",
      size: 62901,
      installedSize: 200000,
      description: "the GNU hello world program",
      url: "https://www.gnu.org/software/hello/",
      license: "GPL-3.0-or-later",
      origin: "hello",
      buildTime: 1700000000,
      depends: ["so:libc.so.6"],
      provides: ["cmd:hello=2.12-r1"],
      installIf: [],
    },
  ];

  it.each(["sha1", "sha256"] as const)(
    "round-trips a %s-signed index that verifies",
    async (algorithm) => {
      const archive = await writeApkIndexArchive({
        entries,
        description: "v1",
        signer: signer(algorithm),
        mtime: 1700000000,
      });
      const index = await readApkIndexArchive(archive, { keyring });
      expect(index.entries).toEqual(entries);
      expect(index.description).toBe("v1");
      expect(index.signatures).toEqual([
        {
          entry: `.SIGN.${algorithm === "sha1" ? "RSA" : "RSA256"}.repo@example.org-1.rsa.pub`,
          algorithm,
          keyName: "repo@example.org-1.rsa.pub",
          verdict: "ok",
        },
      ]);
    },
  );

  it("is deterministic", async () => {
    const a = await writeApkIndexArchive({ entries, signer: signer("sha256"), mtime: 7 });
    const b = await writeApkIndexArchive({ entries, signer: signer("sha256"), mtime: 7 });
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it("writes an unsigned index that reads back without a keyring", async () => {
    const archive = await writeApkIndexArchive({ entries });
    const index = await readApkIndexArchive(archive);
    expect(index.entries).toEqual(entries);
    expect(index.signatures).toEqual([]);
    expect(index.description).toBeUndefined();
  });

  it("detects an index changed after signing (BAD signature)", async () => {
    const signed = await writeApkIndexArchive({ entries, signer: signer("sha1") });
    const unsignedOther = await writeApkIndexArchive({
      entries: [{ ...entries[0]!, version: "2.12-r2" }],
    });
    const signatureLength = signed.length - (await writeApkIndexArchive({ entries })).length;
    const forged = Buffer.concat([signed.subarray(0, signatureLength), unsignedOther]);
    await expect(readApkIndexArchive(forged, { keyring, file: "forged" })).rejects.toBeInstanceOf(
      BadSignatureError,
    );
  });

  it("refuses an index member without APKINDEX and entries smuggled after the signed member", async () => {
    const signed = await writeApkIndexArchive({ entries, signer: signer("sha1") });
    const extra = await writeApkIndexArchive({ entries });
    await expect(
      readApkIndexArchive(Buffer.concat([signed, extra]), { keyring }),
    ).rejects.toBeInstanceOf(PackageFormatError);
  });

  it("refuses an index inflating past 256 MiB by default with a LimitExceededError", async () => {
    expect(DEFAULT_INDEX_MAX_UNCOMPRESSED_BYTES).toBe(256 * 1024 * 1024);
    // An APKINDEX of 300 MiB (the review's had 540 MiB and crashed V8's string
    // length with ERR_STRING_TOO_LONG), gzip'd as a stream.
    const size = 300 * 1024 * 1024;
    const chunk = Buffer.from("P:pkg\nV:1.0-r0\n\n".repeat(65536));
    const gzip = zlib.createGzip({ level: 1 });
    const out: Buffer[] = [];
    gzip.on("data", (part: Buffer) => out.push(part));
    const ended = once(gzip, "end");
    gzip.write(tarHeader({ name: "APKINDEX" }, size));
    for (let written = 0; written < size; written += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - written));
      if (!gzip.write(part)) await once(gzip, "drain");
    }
    gzip.end(new Uint8Array(1024));
    await ended;
    const archive = new Uint8Array(Buffer.concat(out));
    // The ratio limit is lifted so that the size limit is the one that trips.
    const error = await readApkIndexArchive(archive, {
      file: "huge/APKINDEX.tar.gz",
      limits: { maxExpansionRatio: 1e9 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as ApkError).location.file).toBe("huge/APKINDEX.tar.gz");
    expect((error as ApkError).message).toMatch(/maxUncompressedBytes/);
  }, 60_000);

  it("reports a bad signature before decoding or parsing the index text", async () => {
    const signed = await writeApkIndexArchive({ entries, signer: signer("sha1") });
    const signatureLength = signed.length - (await writeApkIndexArchive({ entries })).length;
    // An index member whose APKINDEX is not an index at all.
    const garbage = zlib.gzipSync(
      Buffer.concat([tarHeader({ name: "APKINDEX" }, 4), Buffer.alloc(512, 0xff)]),
    );
    const forged = new Uint8Array(Buffer.concat([signed.subarray(0, signatureLength), garbage]));
    await expect(readApkIndexArchive(forged, { keyring })).rejects.toBeInstanceOf(
      BadSignatureError,
    );
  });
});
