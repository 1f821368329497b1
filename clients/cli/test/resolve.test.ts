// `tailorctl apk resolve` as a user runs it: the built binary against real
// Alpine indexes and apk-tools' own solver scenarios.
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeWithFixtures } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function tailorctl(...args: string[]) {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const resolve = (...args: string[]) => tailorctl("apk", "resolve", ...args);

/** apk's human size: divided by 1024 while 10000 or more. */
function humanSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let size = bytes;
  let unit = 0;
  while (size >= 10000 && unit < units.length - 1) {
    size = Math.floor(size / 1024);
    unit++;
  }
  return `${size} ${units[unit]}`;
}

interface ResolveJson {
  ok: boolean;
  arch: string;
  world: string[];
  packages?: {
    name: string;
    version: string;
    arch: string;
    repository: string;
    tag?: string;
    checksum: string;
    installedSize: number;
  }[];
  installedSize?: number;
  backtracked?: boolean;
  problems?: { package?: string; kind: string; lines: string[] }[];
  warnings: string[];
  text: string;
  repositories: { name: string; file: string; tag?: string; packages: number }[];
}

describeWithFixtures("tailorctl apk resolve on real Alpine indexes", (fixtures) => {
  const alpine316 = path.join(fixtures, "apko/apk/testdata/alpine-316/APKINDEX.tar.gz");
  const alpine317 = path.join(fixtures, "apko/apk/testdata/alpine-317/APKINDEX.tar.gz");
  const alpine319 = path.join(
    fixtures,
    "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz",
  );
  const alpineKeys = path.join(fixtures, "alpine-keys");
  let keysDir: string;
  beforeAll(async () => {
    keysDir = await fs.mkdtemp(path.join(os.tmpdir(), "tailorctl-resolve-keys-"));
  });
  afterAll(async () => {
    await fs.rm(keysDir, { recursive: true, force: true });
  });

  it("prints apk's install lines for busybox from Alpine 3.16 and exits 0", () => {
    const result = resolve("--repo", alpine316, "busybox");
    expect(result.code, result.err).toBe(0);
    expect(result.out).toBe(
      [
        "(1/2) Installing musl (1.2.3-r2)",
        "(2/2) Installing busybox (1.35.0-r17)",
        "OK: 1548 KiB in 2 packages",
        "",
      ].join("\n"),
    );
  });

  it("counts in the OK line exactly the packages it lists, numbered 1..N", () => {
    const world = ["busybox", "python3", "curl", "bash", "gcc", "musl-dev", "nodejs", "git"];
    const result = resolve("--repo", alpine319, ...world);
    expect(result.code, result.err).toBe(0);
    const lines = result.out.trim().split("\n");
    const installing = lines.filter((line) => / Installing /.test(line));
    const total = installing.length;
    expect(total).toBeGreaterThan(world.length);
    installing.forEach((line, index) => {
      expect(line).toMatch(new RegExp(`^\\(${index + 1}/${total}\\) Installing \\S+ \\(\\S+\\)$`));
    });
    expect(lines.at(-1)).toMatch(new RegExp(`^OK: \\d+ (B|KiB|MiB) in ${total} packages$`));
    for (const name of world) expect(result.out).toContain(` Installing ${name} (`);
    // apk's order: musl (the C library everything links) comes before its users
    const musl = installing.findIndex((line) => line.includes(" musl ("));
    const python = installing.findIndex((line) => line.includes(" python3 ("));
    expect(musl).toBeGreaterThanOrEqual(0);
    expect(musl).toBeLessThan(python);
  });

  it("--json lists each package with version, arch, repository, checksum and installed size", () => {
    const text = resolve("--repo", alpine316, "busybox", "curl");
    const result = resolve("--json", "--repo", alpine316, "busybox", "curl");
    expect(result.code, result.err).toBe(0);
    const json = JSON.parse(result.out) as ResolveJson;
    expect(json.ok).toBe(true);
    expect(json.arch).toBe("x86_64");
    expect(json.world).toEqual(["busybox", "curl"]);
    expect(json.repositories).toEqual([{ name: alpine316, file: alpine316, packages: 4929 }]);
    const packages = json.packages ?? [];
    expect(packages.map((p) => `${p.name} (${p.version})`)).toEqual(
      [...text.out.matchAll(/ Installing (\S+ \(\S+\))/g)].map((m) => m[1]),
    );
    for (const pkg of packages) {
      expect(pkg.arch).toBe("x86_64");
      expect(pkg.repository).toBe(alpine316);
      expect(pkg.checksum).toMatch(/^Q1[A-Za-z0-9+/]{27}=$/);
      expect(pkg.installedSize).toBeGreaterThan(0);
    }
    const sum = packages.reduce((total, p) => total + p.installedSize, 0);
    expect(json.installedSize).toBe(sum);
    expect(text.out).toContain(`OK: ${humanSize(sum)} in ${packages.length} packages`);
    expect(json.text).toContain(text.out.trim());
    expect(json.backtracked).toBe(false);
  });

  it("verifies a signed index with --keys, and refuses one signed by a key not given", async () => {
    const trusted = resolve("--keys", alpineKeys, "--repo", alpine316, "busybox");
    expect(trusted.code, trusted.err).toBe(0);
    await fs.copyFile(
      path.join(alpineKeys, "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"),
      path.join(keysDir, "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub"),
    );
    const untrusted = resolve("--keys", keysDir, "--repo", alpine316, "busybox");
    expect(untrusted.code).toBe(1);
    expect(untrusted.out).toBe("");
    expect(untrusted.err).toContain(alpine316);
    expect(untrusted.err).toContain("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub");
  });

  it("takes the arch from the index, and --arch overrides it with apk's arch error", () => {
    const aarch64 = resolve("--json", "--repo", alpine317, "busybox");
    expect(aarch64.code, aarch64.err).toBe(0);
    const json = JSON.parse(aarch64.out) as ResolveJson;
    expect(json.arch).toBe("aarch64");
    expect(json.packages?.map((p) => p.arch)).toEqual(["aarch64", "aarch64"]);

    const wrong = resolve("--arch", "x86_64", "--repo", alpine317, "busybox");
    expect(wrong.code).toBe(1);
    expect(wrong.out).toBe("");
    expect(wrong.err).toContain("ERROR: unable to select packages:");
    expect(wrong.err).toContain(
      "  busybox-1.35.0-r29:\n    error: uninstallable\n    arch: aarch64",
    );
  });
});

/** A fresh-install scenario of apk-tools' test/solver: its repositories, world and expected output. */
async function readScenario(dir: string, name: string) {
  const text = await fs.readFile(path.join(dir, `${name}.test`), "utf8");
  const [head = "", expected = ""] = text.split(/^@EXPECT\n/m);
  const args: string[] = [];
  let world: string[] = [];
  for (const line of head.split("\n")) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === "@REPO") {
      const file = rest.at(-1) ?? "";
      args.push("--repo", ...rest.slice(0, -1), path.join(dir, file));
    } else if (key === "@ARGS") {
      expect(rest[0]).toBe("add");
      world = rest.slice(1);
    }
  }
  return { args: [...args, ...world], expected: expected.trimEnd() };
}

describeWithFixtures("tailorctl apk resolve on apk-tools' solver scenarios", (fixtures) => {
  const dir = path.join(fixtures, "apk-tools/test/solver");

  it.each([
    "basic1", // dependencies before dependents
    "pinning1", // a tagged repository's newer package is not chosen without @tag
    "pinning2", // --repo @testing FILE and a@testing
    "provides2", // an unversioned provide chosen by provider_priority
  ])("prints exactly apk's output for %s and exits 0", async (name) => {
    const scenario = await readScenario(dir, name);
    const result = resolve(...scenario.args);
    expect(result.code, result.err).toBe(0);
    expect(result.out.trimEnd()).toBe(scenario.expected);
  });

  it.each([
    "error3", // breaks: / satisfies:
    "error4", // no such package, required by: world[…]
    "basic19", // an uninstallable arch
  ])("prints exactly apk's error report for %s and exits 1", async (name) => {
    const scenario = await readScenario(dir, name);
    const result = resolve(...scenario.args);
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err.trimEnd()).toBe(scenario.expected);
  });

  it("--json of a failure gives the problems and apk's text", async () => {
    const scenario = await readScenario(dir, "error4");
    const result = resolve("--json", ...scenario.args);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.out) as ResolveJson;
    expect(json.ok).toBe(false);
    expect(json.packages).toBeUndefined();
    expect(json.text).toBe(scenario.expected);
    expect(json.problems).toEqual([
      {
        package: "nonexistant",
        kind: "no such package",
        lines: ["    required by: world[nonexistant]"],
      },
    ]);
  });

  it("--json names the tag a package is installed from", async () => {
    const scenario = await readScenario(dir, "pinning2");
    const json = JSON.parse(resolve("--json", ...scenario.args).out) as ResolveJson;
    expect(json.repositories.map((r) => r.tag)).toEqual([undefined, "testing"]);
    expect(json.packages?.find((p) => p.name === "a")).toMatchObject({
      version: "3",
      tag: "testing",
      repository: path.join(dir, "pinning-overlay1.repo"),
    });
  });
});

describe("tailorctl apk resolve on bad input", () => {
  let dir: string;
  let repo: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tailorctl-resolve-"));
    repo = path.join(dir, "APKINDEX");
    await fs.writeFile(
      repo,
      [
        "C:Q1eVpkasfqZAukAdFYbgwt4xffZWU=",
        "P:hello",
        "V:1.0-r0",
        "A:aarch64",
        "S:10",
        "I:4096",
        "D:so:libc.musl-aarch64.so.1",
        "",
        "C:Q1hdUpffv5mYgJEqW52UmVsv23ysE=",
        "P:musl",
        "V:1.2.4-r2",
        "A:aarch64",
        "S:10",
        "I:8192",
        "p:so:libc.musl-aarch64.so.1=1",
        "",
        "C:Q1hdUpffv5mYgJEqW52UmVsv23ys=",
        "P:damaged",
        "V:1",
        "",
      ].join("\n"),
    );
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("resolves a plain-text index in the arch its entries declare, warning about a bad record", () => {
    const result = resolve("--repo", repo, "hello");
    expect(result.code, result.err).toBe(0);
    expect(result.out).toBe(
      "(1/2) Installing musl (1.2.4-r2)\n(2/2) Installing hello (1.0-r0)\nOK: 12 KiB in 2 packages\n",
    );
    expect(result.err).toMatch(/^WARNING: .*APKINDEX.*record skipped$/m);
  });

  it("names a missing index file (exit 1)", () => {
    const missing = path.join(dir, "nope", "APKINDEX.tar.gz");
    const result = resolve("--repo", repo, "--repo", missing, "hello");
    expect(result.code).toBe(1);
    expect(result.err).toContain(missing);
  });

  it("says when --keys DIR holds no public key (exit 1)", () => {
    const result = resolve("--keys", dir, "--repo", repo, "hello");
    expect(result.code).toBe(1);
    expect(result.err.trim()).toBe(`tailorctl apk resolve: no PEM public keys in ${dir}`);
  });

  it("names a damaged .tar.gz index (exit 1)", async () => {
    const damaged = path.join(dir, "damaged.tar.gz");
    await fs.writeFile(damaged, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    const result = resolve("--repo", damaged, "hello");
    expect(result.code).toBe(1);
    expect(result.err).toContain(damaged);
  });

  it("names an atom it cannot parse, in apk's words (exit 1)", () => {
    const result = resolve("--repo", repo, "hello", "foo=invalid");
    expect(result.code).toBe(1);
    expect(result.out).toBe("");
    expect(result.err.trim().split("\n").at(-1)).toBe(
      "ERROR: 'foo=invalid' is not a valid world dependency, format is name(@tag)([<>~=]version)",
    );
  });

  it("fails like apk for a tag no repository has (exit 1)", () => {
    const result = resolve("--repo", repo, "hello@edge");
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "WARNING: The repository tag for world dependency 'hello@edge' does not exist",
    );
  });

  it.each([
    [["hello"], "resolve needs at least one --repo FILE"],
    [["--repo", "x"], "resolve takes at least one ATOM"],
    [["--repo", "@testing"], "--repo @testing needs the index FILE after the tag"],
    [["--repo", "@testing", "--json", "x", "a"], "--repo @testing needs the index FILE"],
    [["--repo", "@", "x", "a"], '"@" is not a repository tag'],
    [["--repo", "x", "--frobnicate", "a"], "--frobnicate"],
  ])("exits 2 with usage for %j", (args, message) => {
    const result = resolve(...args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain("usage: tailorctl apk resolve --repo FILE [--repo @TAG FILE]...");
  });
});
