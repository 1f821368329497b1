import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  createKeyring,
  indexEntryFromPackage,
  readApkIndexArchive,
  readPackage,
  writePackage,
} from "@tailor/apk";
import { sharedFixturesDir } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandIo } from "../io.js";
import { apkCommand } from "./apk-command.js";

function bufferIo(): CommandIo & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return {
    out: (text) => {
      out += `${text}\n`;
    },
    err: (text) => {
      err += `${text}\n`;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(...args: string[]) {
  const io = bufferIo();
  const code = await apkCommand(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

const fixtures = sharedFixturesDir();
const real = (file: string) => path.join(fixtures ?? "", file);

describe("tailorctl apk version", () => {
  it("compares versions as apk-tools does", async () => {
    expect((await run("version", "compare", "1.2.3-r1", "1.2.3_rc1")).out.trim()).toBe(">");
    expect((await run("version", "compare", "1.0_alpha", "1.0")).out.trim()).toBe("<");
    expect((await run("version", "compare", "2.0-r1", "2.0-r1")).out.trim()).toBe("=");
  });

  it("exits 1 naming each invalid version", async () => {
    const result = await run("version", "check", "1.0", "1.0bc", "0.1-r");
    expect(result.code).toBe(1);
    expect(result.err).toContain("invalid version: 1.0bc");
    expect(result.err).toContain("invalid version: 0.1-r");
    expect((await run("version", "check", "1.2.3_p4-r5")).code).toBe(0);
  });

  it.runIf(fixtures !== undefined)("passes every vector of apk-tools' version.data", async () => {
    const result = await run("version", "test", real("apk-tools/test/unit/version.data"));
    expect(result.out.trim()).toMatch(/^\d+ passed, 0 failed$/);
    expect(result.code).toBe(0);
  });

  it("counts a failing vector and says which line", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tailorctl-"));
    const file = path.join(dir, "version.data");
    await fs.writeFile(file, "1.0 < 2.0\n1.0 > 2.0\n");
    const result = await run("version", "test", file);
    expect(result.out.trim()).toBe("1 passed, 1 failed");
    expect(result.err).toContain(`${file}:2: 1.0 > 2.0`);
    expect(result.code).toBe(1);
    await fs.rm(dir, { recursive: true });
  });
});

describe.runIf(fixtures !== undefined)("tailorctl apk inspect and verify on real packages", () => {
  const strace = real("go-apkutils/testdata/strace-5.17-r0.apk");

  it("inspects fields, segments and the signature verdict", async () => {
    const result = await run("inspect", "--keys", real("alpine-keys"), strace);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/name\s+strace/);
    expect(result.out).toMatch(/checksum\s+Q1[A-Za-z0-9+/]{27}=/);
    expect(result.out).toMatch(/data\s+offset \d+ length \d+ members 1/);
    expect(result.out).toContain(
      "signature: sha1 by alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub: OK",
    );
  });

  it("prints JSON with exact segment offsets", async () => {
    const result = await run("inspect", "--json", strace);
    const json = JSON.parse(result.out) as {
      checksum: string;
      segments: { control: { offset: number; length: number }; data: { offset: number } };
    };
    expect(json.segments.data.offset).toBe(
      json.segments.control.offset + json.segments.control.length,
    );
    expect(json.checksum.startsWith("Q1")).toBe(true);
  });

  it("prints OK, UNTRUSTED or BAD per file and exits 1 unless all are OK", async () => {
    const ok = await run("verify", "--keys", real("alpine-keys"), strace);
    expect(ok.code).toBe(0);
    expect(ok.out.trim()).toBe(`OK ${strace}`);

    const neon = real("melange/pkg/sca/testdata/neon-4604-r0.apk");
    const malformed = real("go-apkutils/malformed/APKINDEX.tar.gz");
    const mixed = await run("verify", "--keys", real("alpine-keys"), strace, neon, malformed);
    expect(mixed.code).toBe(1);
    const lines = mixed.out.trim().split("\n");
    expect(lines[0]).toBe(`OK ${strace}`);
    expect(lines[1]).toMatch(new RegExp(`^UNTRUSTED ${neon}: `));
    expect(lines[2]).toMatch(new RegExp(`^BAD ${malformed}: `));
  });

  it("reports a missing file and a damaged package as errors, not crashes", async () => {
    const missing = await run("inspect", "/nonexistent/x.apk");
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("/nonexistent/x.apk");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tailorctl-"));
    const damaged = path.join(dir, "damaged.apk");
    const bytes = await fs.readFile(strace);
    await fs.writeFile(damaged, bytes.subarray(0, bytes.length - 1000));
    const result = await run("inspect", damaged);
    expect(result.code).toBe(1);
    expect(result.err).toContain(damaged);
    await fs.rm(dir, { recursive: true });
  });
});

describe("tailorctl apk index", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tailorctl-index-"));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("indexes and signs packages written by libs/apk; the index reads back identically", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const keyName = "tailor-test-0001.rsa.pub";
    const repo = path.join(dir, "x86_64");
    await fs.mkdir(repo);
    const keys = path.join(dir, "keys");
    await fs.mkdir(keys);
    await fs.writeFile(path.join(keys, keyName), publicPem);
    await fs.writeFile(path.join(dir, "key.pem"), privatePem);
    const signer = { keyName, privateKeyPem: privatePem, algorithm: "sha256" as const };
    for (const [name, deps] of [
      ["hello", ["so:libc.musl-x86_64.so.1"]],
      ["hello-doc", ["hello=1.0-r0"]],
    ] as const) {
      const bytes = await writePackage({
        pkginfo: {
          name,
          version: "1.0-r0",
          arch: "x86_64",
          description: `${name} package`,
          depends: [...deps],
        },
        files: [
          { path: "usr/share/hello", type: "directory" },
          {
            path: `usr/share/hello/${name}.txt`,
            type: "file",
            content: new TextEncoder().encode(`${name}\n`),
          },
        ],
        mtime: 1_700_000_000,
        signer,
      });
      await fs.writeFile(path.join(repo, `${name}-1.0-r0.apk`), bytes);
    }
    const out = path.join(repo, "APKINDEX.tar.gz");
    const result = await run(
      "index",
      repo,
      "-o",
      out,
      "--sign",
      path.join(dir, "key.pem"),
      "--key-name",
      keyName,
      "--description",
      "tailor test repo",
    );
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain("2 packages, signed by tailor-test-0001.rsa.pub");

    const keyring = createKeyring([{ name: keyName, pem: publicPem }]);
    const index = await readApkIndexArchive(new Uint8Array(await fs.readFile(out)), {
      file: out,
      keyring,
      requireSignature: true,
    });
    expect(index.description).toBe("tailor test repo");
    expect(index.entries.map((e) => e.name)).toEqual(["hello", "hello-doc"]);
    for (const entry of index.entries) {
      const file = path.join(repo, `${entry.name}-1.0-r0.apk`);
      const bytes = new Uint8Array(await fs.readFile(file));
      const pkg = await readPackage(bytes, { file, keyring });
      expect(entry).toEqual(indexEntryFromPackage(pkg, bytes.length));
    }
    const verified = await run("verify", "--keys", keys, out, path.join(repo, "hello-1.0-r0.apk"));
    expect(verified.code, verified.out).toBe(0);
  });

  it("refuses --sign without --key-name", async () => {
    const result = await run("index", dir, "-o", path.join(dir, "x.tar.gz"), "--sign", "k.pem");
    expect(result.code).toBe(2);
    expect(result.err).toContain("--sign and --key-name go together");
  });
});
