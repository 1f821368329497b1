// `tailorctl build` as a user runs it: the built binary against a signed
// repository made here and the real fixture repositories, its layouts read
// back by umoci and skopeo.
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ApkSigner,
  type IndexEntry,
  indexEntryFromPackage,
  parseInstalledDb,
  readPackage,
  writeApkIndexArchive,
  writePackage,
} from "@tailor/apk";
import { describeWithFixtures } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tailorctl-build-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function tailorctl(...args: string[]) {
  const result = spawnSync(process.execPath, [main, ...args], {
    encoding: "utf8",
    env: { ...process.env, SOURCE_DATE_EPOCH: "" },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function tool(name: string): boolean {
  try {
    execFileSync("which", [name], { stdio: "pipe" });
    return true;
  } catch {
    process.stderr.write(`skipping ${name} checks of tailorctl build: ${name} is not installed\n`);
    return false;
  }
}
const hasUmoci = tool("umoci");
const hasSkopeo = tool("skopeo");

/** A fresh directory under the scratch directory. */
function dir(name: string): string {
  return fs.mkdtempSync(path.join(scratch, `${name}-`));
}

/** Unpacks `layout:ref` with umoci and returns the root file system. */
function unpack(layout: string, ref: string): string {
  const bundle = path.join(dir("bundle"), "b");
  execFileSync("umoci", ["unpack", "--rootless", "--image", `${layout}:${ref}`, bundle], {
    stdio: "pipe",
  });
  return path.join(bundle, "rootfs");
}

function skopeoInspect(layout: string, ref: string): { Architecture: string; Layers: string[] } {
  return JSON.parse(
    execFileSync("skopeo", ["inspect", `oci:${layout}:${ref}`], { encoding: "utf8" }),
  );
}

const text = (content: string) => new TextEncoder().encode(content);

/** A signed repository `<root>/x86_64/` of small packages, its key in `<keys>/`. */
async function syntheticRepository(): Promise<{ repo: string; keys: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyName = "tailor-test.rsa.pub";
  const signer: ApkSigner = {
    keyName,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    algorithm: "sha256",
  };
  const keys = dir("keys");
  fs.writeFileSync(
    path.join(keys, keyName),
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );
  const repo = dir("repo");
  const archDir = path.join(repo, "x86_64");
  fs.mkdirSync(archDir);
  const definitions = [
    {
      name: "baselayout",
      files: { "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n" },
    },
    {
      name: "libgreet",
      provides: ["so:libgreet.so.1=1"],
      depends: [],
      files: { "usr/lib/libgreet.so.1": "\x7fELF greet library\n" },
    },
    {
      name: "greet",
      provides: ["cmd:greet=2.0-r0"],
      depends: ["so:libgreet.so.1", "baselayout"],
      files: { "usr/bin/greet": "#!/bin/sh\necho hello\n" },
    },
    { name: "extra", files: { "usr/share/extra/README": "extra\n" } },
  ];
  const entries: IndexEntry[] = [];
  for (const definition of definitions) {
    const bytes = await writePackage({
      pkginfo: {
        name: definition.name,
        version: definition.name === "greet" ? "2.0-r0" : "1.0-r0",
        arch: "x86_64",
        license: "MIT",
        description: `the ${definition.name} package`,
        depends: definition.depends ?? [],
        provides: definition.provides ?? [],
      },
      files: Object.entries(definition.files).map(([file, content]) => ({
        path: file,
        type: "file" as const,
        content: text(content),
      })),
      mtime: 1_700_000_000,
      signer,
    });
    const pkg = await readPackage(bytes);
    const entry = indexEntryFromPackage(pkg, bytes.length);
    entries.push(entry);
    fs.writeFileSync(path.join(archDir, `${entry.name}-${entry.version}.apk`), bytes);
  }
  fs.writeFileSync(
    path.join(archDir, "APKINDEX.tar.gz"),
    await writeApkIndexArchive({ entries, signer, description: "test" }),
  );
  return { repo, keys };
}

function writeConfig(name: string, yaml: string): string {
  const file = path.join(dir("config"), name);
  fs.writeFileSync(file, yaml);
  return file;
}

const greetYaml = `contents:
  packages:
    - greet
accounts:
  users:
    - username: app
      uid: 1000
  run-as: app
entrypoint:
  command: /usr/bin/greet --loud
work-dir: /home/app
environment:
  GREETING: hello
archs: [x86_64]
`;

describe("tailorctl build from a signed repository", () => {
  let repo: string;
  let keys: string;
  beforeAll(async () => {
    ({ repo, keys } = await syntheticRepository());
  });

  it("writes an OCI layout whose image holds every package's files and the apk database", () => {
    const out = dir("out");
    const config = writeConfig("greet.yaml", greetYaml);
    const result = tailorctl(
      "build",
      "--config",
      config,
      "--repo",
      repo,
      "--keys",
      keys,
      "--out",
      out,
      "--tag",
      "v1",
      "--cache",
      dir("cache"),
    );
    expect(result.code, result.err).toBe(0);
    expect(result.out).toContain("x86_64 (v1-amd64): 3 packages");
    expect(result.out).toMatch(/:v1 sha256:[0-9a-f]{64} in [\d.]+ s/);

    const index = JSON.parse(fs.readFileSync(path.join(out, "index.json"), "utf8"));
    const refs = index.manifests.map(
      (entry: { annotations: Record<string, string> }) =>
        entry.annotations["org.opencontainers.image.ref.name"],
    );
    expect(refs).toEqual(["v1", "v1-amd64"]);

    if (hasUmoci) {
      const rootfs = unpack(out, "v1-amd64");
      expect(fs.readFileSync(path.join(rootfs, "usr/bin/greet"), "utf8")).toBe(
        "#!/bin/sh\necho hello\n",
      );
      expect(fs.existsSync(path.join(rootfs, "usr/lib/libgreet.so.1"))).toBe(true);
      const installed = parseInstalledDb(
        fs.readFileSync(path.join(rootfs, "lib/apk/db/installed"), "utf8"),
      );
      expect(installed.map((record) => record.name).sort()).toEqual([
        "baselayout",
        "greet",
        "libgreet",
      ]);
      expect(fs.readFileSync(path.join(rootfs, "etc/passwd"), "utf8")).toContain(
        "app:x:1000:1000:",
      );
      expect(fs.readdirSync(path.join(rootfs, "etc/apk/keys"))).toEqual(["tailor-test.rsa.pub"]);
    }
    if (hasSkopeo) {
      const inspected = skopeoInspect(out, "v1");
      expect(inspected.Architecture).toBe("amd64");
      const config = JSON.parse(
        execFileSync("skopeo", ["inspect", "--config", `oci:${out}:v1-amd64`], {
          encoding: "utf8",
        }),
      );
      expect(config.config.Entrypoint).toEqual(["/usr/bin/greet", "--loud"]);
      expect(config.config.User).toBe("app");
      expect(config.config.WorkingDir).toBe("/home/app");
      expect(config.config.Env).toContain("GREETING=hello");
    }
  });

  it("gives the same digest for the same inputs, and a warm rebuild writes no blob", () => {
    const config = writeConfig("greet.yaml", greetYaml);
    const cache = dir("cache");
    const out = dir("out");
    const run = (cacheDir: string, outDir: string) => {
      const result = tailorctl(
        "build",
        "--config",
        config,
        "--repo",
        repo,
        "--keys",
        keys,
        "--out",
        outDir,
        "--cache",
        cacheDir,
        "--json",
      );
      expect(result.code, result.err).toBe(0);
      return JSON.parse(result.out) as {
        digest: string;
        blobs: { written: number };
        images: { fetched: number; packages: { name: string }[] }[];
      };
    };
    const cold = run(cache, out);
    const warm = run(cache, out);
    const elsewhere = run(dir("cache"), dir("out"));
    expect(warm.digest).toBe(cold.digest);
    expect(elsewhere.digest).toBe(cold.digest);
    expect(cold.images[0]?.fetched).toBe(3);
    expect(warm.images[0]?.fetched).toBe(0);
    expect(warm.blobs.written).toBe(0);
    // apk's install order: dependencies first
    expect(cold.images[0]?.packages.map((pkg) => pkg.name).at(-1)).toBe("greet");
    expect(cold.images[0]?.packages.length).toBe(3);
  });

  it("keeps other tags of the layout when adding one", () => {
    const out = dir("out");
    const cache = dir("cache");
    const common = ["--repo", repo, "--keys", keys, "--out", out, "--cache", cache];
    const plain = writeConfig("plain.yaml", "contents:\n  packages: [greet]\n");
    const more = writeConfig("more.yaml", "contents:\n  packages: [greet, extra]\n");
    expect(tailorctl("build", "--config", plain, "--tag", "a", ...common).code).toBe(0);
    expect(tailorctl("build", "--config", more, "--tag", "b", ...common).code).toBe(0);
    if (hasSkopeo) {
      expect(skopeoInspect(out, "a").Layers.length).toBeGreaterThan(0);
      const b = skopeoInspect(out, "b-amd64");
      expect(b.Architecture).toBe("amd64");
    }
    if (hasUmoci) {
      expect(fs.existsSync(path.join(unpack(out, "b-amd64"), "usr/share/extra/README"))).toBe(true);
    }
  });

  it("prints apk's error for a package no repository has and exits 1", () => {
    const config = writeConfig("missing.yaml", "contents:\n  packages: [greet, nosuch]\n");
    const result = tailorctl(
      "build",
      "--config",
      config,
      "--repo",
      repo,
      "--keys",
      keys,
      "--out",
      dir("out"),
      "--cache",
      dir("cache"),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "ERROR: unable to select packages:\n  nosuch (no such package):\n    required by: world[nosuch]",
    );
  });

  it("names the wrong field of a bad YAML and exits 1", () => {
    const cases: [string, string][] = [
      ["contents:\n  repositories: [x]\n", "contents.packages: is required"],
      ["contents:\n  packages: [greet, 'a b']\n", "contents.packages[1]"],
      [
        "contents:\n  packages: [greet]\naccounts:\n  users:\n    - username: app\n      uid: minus-one\n",
        "accounts.users[0].uid: must be a number",
      ],
      [
        "contents:\n  packages: [greet]\narchs: [sparc]\n",
        'archs[0]: "sparc" is not an architecture',
      ],
      ["contents: [unclosed\n", "yaml:"],
    ];
    for (const [yaml, message] of cases) {
      const config = writeConfig("bad.yaml", yaml);
      const result = tailorctl("build", "--config", config, "--repo", repo, "--out", dir("out"));
      expect(result.code, yaml).toBe(1);
      expect(result.err).toContain(`tailorctl build: ${config}: ${message}`);
    }
  });

  it("refuses an index not signed by the given keys", () => {
    const { privateKey: _, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const otherKeys = dir("keys");
    fs.writeFileSync(
      path.join(otherKeys, "other.rsa.pub"),
      publicKey.export({ type: "spki", format: "pem" }).toString(),
    );
    const result = tailorctl(
      "build",
      "--config",
      writeConfig("greet.yaml", greetYaml),
      "--repo",
      repo,
      "--keys",
      otherKeys,
      "--out",
      dir("out"),
      "--cache",
      dir("cache"),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain("APKINDEX.tar.gz");
    expect(result.err).toContain("tailor-test.rsa.pub");
  });

  it("warns when nothing verifies the indexes, and exits 2 without --out", () => {
    const config = writeConfig("plain.yaml", "contents:\n  packages: [extra]\n");
    const unsigned = tailorctl(
      "build",
      "--config",
      config,
      "--repo",
      repo,
      "--out",
      dir("out"),
      "--cache",
      dir("cache"),
    );
    expect(unsigned.code, unsigned.err).toBe(0);
    expect(unsigned.err).toContain("repository indexes are not verified");
    const usage = tailorctl("build", "--config", config, "--repo", repo);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("--out OCI_LAYOUT_DIR is required");
  });
});

describeWithFixtures("tailorctl build on the real fixture repositories", (fixtures) => {
  const testdata = path.join(fixtures, "apko-history-6c8dd7f/cli/testdata");

  it("builds tzdata for two arches offline, verified with contents.keyring", () => {
    const config = writeConfig(
      "tzdata.yaml",
      `contents:
  repositories: [${path.join(testdata, "packages")}]
  keyring: [${path.join(testdata, "local-melange.rsa.pub")}]
  packages: [tzdata]
archs: [x86_64, aarch64]
environment:
  TZ: Europe/Paris
`,
    );
    const out = dir("out");
    const result = tailorctl("build", "--config", config, "--out", out, "--cache", dir("cache"));
    expect(result.code, result.err).toBe(0);
    expect(result.err).toBe("");
    expect(result.out).toContain("x86_64 (latest-amd64): 1 packages");
    expect(result.out).toContain("aarch64 (latest-arm64): 1 packages");
    expect(result.out).toContain("1 package layers reused");

    if (hasSkopeo) {
      expect(skopeoInspect(out, "latest-amd64").Architecture).toBe("amd64");
      expect(skopeoInspect(out, "latest-arm64").Architecture).toBe("arm64");
      const raw = JSON.parse(
        execFileSync("skopeo", ["inspect", "--raw", `oci:${out}:latest`], { encoding: "utf8" }),
      );
      expect(
        raw.manifests.map(
          (entry: { platform: { architecture: string } }) => entry.platform.architecture,
        ),
      ).toEqual(["amd64", "arm64"]);
    }
    if (hasUmoci) {
      for (const ref of ["latest-amd64", "latest-arm64"]) {
        const rootfs = unpack(out, ref);
        expect(
          fs.readFileSync(path.join(rootfs, "usr/share/zoneinfo/UTC")).subarray(0, 4).toString(),
        ).toBe("TZif");
        const installed = parseInstalledDb(
          fs.readFileSync(path.join(rootfs, "lib/apk/db/installed"), "utf8"),
        );
        expect(installed.map((record) => `${record.name}-${record.version}`)).toEqual([
          "tzdata-2023c-r0",
        ]);
      }
    }
  });

  it("refuses the tzdata index with the wrong key", () => {
    const result = tailorctl(
      "build",
      "--config",
      writeConfig("tzdata.yaml", "contents:\n  packages: [tzdata]\n"),
      "--repo",
      path.join(testdata, "packages"),
      "--keys",
      path.join(fixtures, "alpine-keys"),
      "--out",
      dir("out"),
      "--cache",
      dir("cache"),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain("local-melange.rsa.pub");
  });
});
