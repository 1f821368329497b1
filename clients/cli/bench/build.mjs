// Benchmark of `tailorctl build` (npm run bench): figures are printed, not asserted.
//
// A deterministic generator writes a python-like signed APK repository (38
// packages, ~150 MB installed, text-heavy and binary-heavy files, so:/cmd:
// provides) into a temp dir. tailorctl (spawned as a process, as a user runs
// it) is measured against an apko-like baseline run in the same process tree:
// extract every package's data into one directory, then GNU `tar -c | gzip -6`.
//
// Scenarios: cold build (empty caches), warm rebuild (same inputs),
// customization (base cached, +3 packages), rebuild after one package version
// bump. Goals: cold ≤ 0.25× baseline; customization ≤ 1 s and ≤ 0.1× baseline.
import { execFileSync, spawn } from "node:child_process";
import { createCipheriv, createHash, generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  indexEntryFromPackage,
  readPackage,
  writeApkIndexArchive,
  writePackage,
} from "@tailor/apk";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const ARCH = "x86_64";
const MB = 1e6;

// --- deterministic bytes -----------------------------------------------------

/** A keystream (AES-128-CTR over zeros) seeded by a string: same seed, same bytes. */
class Random {
  constructor(seed) {
    const key = createHash("sha256").update(seed).digest().subarray(0, 16);
    this.cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
    this.pool = Buffer.alloc(0);
    this.at = 0;
  }
  bytes(n) {
    return this.cipher.update(Buffer.alloc(n));
  }
  /** An integer in [0, n). */
  below(n) {
    if (this.at + 4 > this.pool.length) {
      this.pool = this.bytes(1 << 16);
      this.at = 0;
    }
    const value = this.pool.readUInt32LE(this.at);
    this.at += 4;
    return value % n;
  }
}

const KEYWORDS =
  "def class return import from if elif else for while try except finally with as pass yield lambda not and or is in None True False self raise assert global async await".split(
    " ",
  );
const WORDS =
  "the of a to and in is it that for this with be on not are as by an at or from which can if will when all one into has its more value file path data name type list dict object module function result error default return used should must each other string number module version system option buffer stream socket request response header encoding decode encode parse format".split(
    " ",
  );

function identifiers(random, count) {
  const syllables =
    "ab ac ad al an ar as at be ca ce co de di do el en er es ex fi fo ge in io is it la le li lo ma me mi mo na ne no op or pa pe po pr qu ra re ri ro sa se si so st ta te ti to tr un ur us va ve wi".split(
      " ",
    );
  const out = [];
  for (let i = 0; i < count; i++) {
    let name = "";
    const parts = 2 + random.below(3);
    for (let p = 0; p < parts; p++) name += syllables[random.below(syllables.length)];
    if (random.below(3) === 0) name += `_${syllables[random.below(syllables.length)]}`;
    out.push(name);
  }
  return out;
}

/** Python-like source text of about `size` bytes (compresses about 4×). */
function pythonText(random, names, size) {
  const lines = [];
  let length = 0;
  const name = () => names[random.below(names.length)];
  while (length < size) {
    const indent = " ".repeat(4 * random.below(4));
    let line;
    switch (random.below(8)) {
      case 0:
        line = `def ${name()}(${name()}, ${name()}=${random.below(1000)}):`;
        break;
      case 1:
        line = `${indent}return ${name()}.${name()}(${name()}, ${name()})`;
        break;
      case 2: {
        const words = [];
        for (let i = 0, n = 3 + random.below(9); i < n; i++)
          words.push(WORDS[random.below(WORDS.length)]);
        line = `${indent}# ${words.join(" ")}`;
        break;
      }
      case 3:
        line = `${indent}${name()} = ${name()} + ${random.below(65536)}`;
        break;
      case 4:
        line = `from ${name()}.${name()} import ${name()}, ${name()}`;
        break;
      case 5:
        line = `${indent}${KEYWORDS[random.below(KEYWORDS.length)]} ${name()} ${KEYWORDS[random.below(KEYWORDS.length)]} ${name()}:`;
        break;
      case 6:
        line = `${indent}self.${name()} = "${name()}-${random.below(100000).toString(16)}"`;
        break;
      default:
        line = "";
    }
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(`${lines.join("\n")}\n`).subarray(0, size);
}

/** Machine-code-like bytes of `size` (compresses about 2.5×): random runs, low-entropy runs, zero runs. */
function binaryBytes(random, size) {
  const out = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const run = Math.min(size - at, 512 + random.below(3584));
    const kind = random.below(10);
    if (kind < 3) {
      random.bytes(run).copy(out, at);
    } else if (kind < 8) {
      const chunk = random.bytes(run);
      for (let i = 0; i < run; i++) out[at + i] = (chunk[i] & 0x0f) | 0x40;
    }
    at += run;
  }
  return out;
}

// --- the repository ----------------------------------------------------------

/** name, version, MB of text and binary files, provides, depends (python-like closure). */
const BASE = [
  ["wolfi-baselayout", "20230201-r15", 0.01, 0, [], []],
  ["ca-certificates-bundle", "20240705-r0", 0.22, 0, [], []],
  ["ld-linux", "2.40-r3", 0, 0.25, ["so:ld-linux-x86-64.so.2=2"], []],
  [
    "glibc",
    "2.40-r3",
    1.0,
    10.0,
    ["so:libc.so.6=6", "so:libm.so.6=6", "so:libpthread.so.0=0", "so:libdl.so.2=2"],
    ["ld-linux", "wolfi-baselayout"],
  ],
  ["glibc-locale-posix", "2.40-r3", 0.3, 0, [], ["glibc"]],
  ["libgcc", "14.2.0-r2", 0, 0.15, ["so:libgcc_s.so.1=1"], ["so:libc.so.6"]],
  [
    "libstdc++",
    "14.2.0-r2",
    0.1,
    2.5,
    ["so:libstdc++.so.6=6"],
    ["so:libc.so.6", "so:libgcc_s.so.1", "so:libm.so.6"],
  ],
  ["zlib", "1.3.1-r3", 0, 0.1, ["so:libz.so.1=1"], ["so:libc.so.6"]],
  ["bzip2-libs", "1.0.8-r10", 0, 0.07, ["so:libbz2.so.1=1"], ["so:libc.so.6"]],
  ["xz-libs", "5.6.2-r1", 0, 0.2, ["so:liblzma.so.5=5"], ["so:libc.so.6"]],
  ["libzstd1", "1.5.6-r4", 0, 0.8, ["so:libzstd.so.1=1"], ["so:libc.so.6"]],
  ["libffi", "3.4.6-r3", 0, 0.05, ["so:libffi.so.8=8"], ["so:libc.so.6"]],
  ["libcrypto3", "3.3.2-r0", 0.05, 5.5, ["so:libcrypto.so.3=3"], ["so:libc.so.6"]],
  ["libssl3", "3.3.2-r0", 0, 0.8, ["so:libssl.so.3=3"], ["so:libcrypto.so.3", "so:libc.so.6"]],
  ["ncurses-terminfo-base", "6.5-r1", 0.2, 0.2, [], []],
  [
    "ncurses",
    "6.5-r1",
    0,
    0.5,
    ["so:libncursesw.so.6=6", "so:libtinfow.so.6=6"],
    ["ncurses-terminfo-base", "so:libc.so.6"],
  ],
  [
    "readline",
    "8.2-r8",
    0.02,
    0.3,
    ["so:libreadline.so.8=8"],
    ["so:libncursesw.so.6", "so:libc.so.6"],
  ],
  ["sqlite-libs", "3.46.1-r0", 0, 1.6, ["so:libsqlite3.so.0=0"], ["so:libc.so.6", "so:libz.so.1"]],
  ["gdbm", "1.24-r2", 0, 0.2, ["so:libgdbm.so.6=6"], ["so:libc.so.6"]],
  ["mpdecimal", "4.0.0-r1", 0, 0.3, ["so:libmpdec.so.4=4"], ["so:libc.so.6"]],
  ["libexpat1", "2.6.3-r0", 0, 0.2, ["so:libexpat.so.1=1"], ["so:libc.so.6"]],
  ["libuuid", "2.40.2-r1", 0, 0.04, ["so:libuuid.so.1=1"], ["so:libc.so.6"]],
  [
    "libtirpc",
    "1.3.5-r1",
    0.01,
    0.2,
    ["so:libtirpc.so.3=3"],
    ["so:libc.so.6", "so:libgssapi_krb5.so.2"],
  ],
  ["libnsl", "2.0.1-r1", 0, 0.05, ["so:libnsl.so.3=3"], ["so:libtirpc.so.3", "so:libc.so.6"]],
  ["libxcrypt", "4.4.36-r7", 0, 0.2, ["so:libcrypt.so.1=1"], ["so:libc.so.6"]],
  ["krb5-conf", "1.0-r1", 0.01, 0, [], []],
  ["keyutils-libs", "1.6.3-r4", 0, 0.02, ["so:libkeyutils.so.1=1"], ["so:libc.so.6"]],
  ["libcom_err", "1.47.1-r1", 0, 0.02, ["so:libcom_err.so.2=2"], ["so:libc.so.6"]],
  ["libverto", "0.3.2-r4", 0, 0.02, ["so:libverto.so.1=1"], ["so:libc.so.6"]],
  [
    "krb5-libs",
    "1.21.3-r1",
    0.05,
    1.2,
    ["so:libgssapi_krb5.so.2=2", "so:libkrb5.so.3=3"],
    [
      "krb5-conf",
      "so:libkeyutils.so.1",
      "so:libcom_err.so.2",
      "so:libverto.so.1",
      "so:libcrypto.so.3",
    ],
  ],
  ["libbsd", "0.12.2-r1", 0, 0.1, ["so:libbsd.so.0=0"], ["so:libc.so.6"]],
  ["tzdata", "2024b-r0", 0.5, 2.0, [], []],
  [
    "busybox",
    "1.37.0-r0",
    0,
    1.0,
    ["cmd:sh=1.37.0-r0", "cmd:ls=1.37.0-r0", "cmd:cat=1.37.0-r0", "cmd:env=1.37.0-r0"],
    ["so:libc.so.6", "so:libcrypt.so.1"],
  ],
  [
    "python-3.12-base",
    "3.12.7-r0",
    0.2,
    24.0,
    ["so:libpython3.12.so.1.0=1.0", "cmd:python3.12=3.12.7-r0"],
    [
      "so:libc.so.6",
      "so:libz.so.1",
      "so:libbz2.so.1",
      "so:liblzma.so.5",
      "so:libzstd.so.1",
      "so:libffi.so.8",
      "so:libssl.so.3",
      "so:libcrypto.so.3",
      "so:libncursesw.so.6",
      "so:libreadline.so.8",
      "so:libsqlite3.so.0",
      "so:libgdbm.so.6",
      "so:libmpdec.so.4",
      "so:libexpat.so.1",
      "so:libuuid.so.1",
      "so:libnsl.so.3",
      "so:libcrypt.so.1",
      "so:libbsd.so.0",
      "so:libstdc++.so.6",
    ],
  ],
  [
    "python-3.12",
    "3.12.7-r0",
    58.0,
    30.0,
    ["cmd:python3=3.12.7-r0", "cmd:python=3.12.7-r0", "python3=3.12.7-r0"],
    ["python-3.12-base", "ca-certificates-bundle", "tzdata", "glibc-locale-posix"],
  ],
];
const ADDED = [
  [
    "py3.12-pip",
    "24.2-r1",
    8.0,
    0.6,
    ["cmd:pip=24.2-r1", "cmd:pip3=24.2-r1"],
    ["python3", "py3.12-setuptools"],
  ],
  ["py3.12-setuptools", "74.1.2-r0", 4.0, 0.2, [], ["python3"]],
  ["py3.12-wheel", "0.44.0-r0", 0.4, 0, ["cmd:wheel=0.44.0-r0"], ["python3"]],
];

/** The files of a package: text files (.py, docs) and binary ones (.so, .pyc), deterministic from the name and version. */
function packageFiles(name, version, textMb, binaryMb) {
  const random = new Random(`${name}-${version}`);
  const names = identifiers(random, 3000);
  const files = [];
  const python = name.startsWith("py");
  const root = python
    ? `usr/lib/python3.12/${name.includes("-3.12") ? "" : "site-packages/"}${name.replace(/^py3\.12-/, "")}`
    : `usr/lib/${name}`;
  let text = Math.round(textMb * MB);
  for (let n = 0; text > 0; n++) {
    const size = Math.min(text, 2000 + random.below(58000));
    const dir = python ? `${root}/${names[n % 97]}` : `usr/share/${name}`;
    files.push({
      path: `${dir}/${names[n % names.length]}_${n}.${python ? "py" : "txt"}`,
      type: "file",
      content: pythonText(random, names, size),
    });
    text -= size;
  }
  let binary = Math.round(binaryMb * MB);
  for (let n = 0; binary > 0; n++) {
    // big packages: a few large shared objects, then many .pyc-sized pieces
    const size = Math.min(
      binary,
      n < 2 ? Math.round(binaryMb * MB * 0.3) : 4000 + random.below(76000),
    );
    const file = python
      ? `${root}/__pycache__/${names[n % names.length]}_${n}.cpython-312.pyc`
      : `usr/lib/lib${name}-${n}.so`;
    files.push({
      path: file,
      type: "file",
      mode: python ? 0o644 : 0o755,
      content: binaryBytes(random, size),
    });
    binary -= size;
  }
  if (name === "wolfi-baselayout") {
    files.push({
      path: "etc/passwd",
      type: "file",
      content: Buffer.from(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
      ),
    });
    files.push({
      path: "etc/group",
      type: "file",
      content: Buffer.from("root:x:0:\nnobody:x:65534:\n"),
    });
    files.push({
      path: "etc/os-release",
      type: "file",
      content: Buffer.from('ID=wolfi\nNAME="Wolfi"\n'),
    });
  }
  if (name === "python-3.12")
    files.push({ path: "usr/bin/python3", type: "symlink", linkTarget: "python3.12" });
  if (name === "python-3.12-base")
    files.push({
      path: "usr/bin/python3.12",
      type: "file",
      mode: 0o755,
      content: binaryBytes(random, 16_000),
    });
  if (name === "busybox")
    files.push({ path: "bin/sh", type: "symlink", linkTarget: "/usr/lib/libbusybox-0.so" });
  return files;
}

async function writeRepositoryPackage(
  dir,
  signer,
  [name, version, textMb, binaryMb, provides, depends],
) {
  const bytes = await writePackage({
    pkginfo: {
      name,
      version,
      arch: ARCH,
      license: "PSF-2.0",
      description: `${name} (benchmark)`,
      origin: name.replace(/-base$/, ""),
      provides,
      depends,
      builddate: 1_725_000_000,
    },
    files: packageFiles(name, version, textMb, binaryMb),
    mtime: 1_725_000_000,
    signer,
    gzipLevel: 6,
  });
  fs.writeFileSync(path.join(dir, ARCH, `${name}-${version}.apk`), bytes);
  const pkg = await readPackage(bytes, { verifyDatahash: false });
  return indexEntryFromPackage(pkg, bytes.length);
}

async function writeIndex(dir, signer, entries) {
  fs.writeFileSync(
    path.join(dir, ARCH, "APKINDEX.tar.gz"),
    await writeApkIndexArchive({ entries, signer, description: "tailor-bench" }),
  );
}

// --- measuring ---------------------------------------------------------------

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${err}`));
      else resolve({ seconds, out, err });
    });
  });
}

async function tailorctl(config, repo, keys, out, cache, tag) {
  const result = await run(process.execPath, [
    main,
    "build",
    "--config",
    config,
    "--repo",
    repo,
    "--keys",
    keys,
    "--out",
    out,
    "--cache",
    cache,
    "--tag",
    tag,
    "--json",
  ]);
  return { seconds: result.seconds, report: JSON.parse(result.out) };
}

/** apko-like: every package's data extracted into one directory, then one tar | gzip -6 layer. */
async function baseline(files, work) {
  const rootfs = path.join(work, "rootfs");
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(rootfs, { recursive: true });
  const quoted = (value) => `'${value.replaceAll("'", "'\\''")}'`;
  const script = [
    ...files.map(
      (file) =>
        `tar -xzf ${quoted(file)} -C ${quoted(rootfs)} --warning=no-unknown-keyword --exclude=.PKGINFO --exclude='.SIGN.*' --exclude='.pre-*' --exclude='.post-*'`,
    ),
    `tar -c -C ${quoted(rootfs)} --sort=name . | gzip -6 > ${quoted(path.join(work, "layer.tar.gz"))}`,
  ].join(" && ");
  const result = await run("bash", ["-c", `set -o pipefail; ${script}`]);
  const size = fs.statSync(path.join(work, "layer.tar.gz")).size;
  fs.rmSync(work, { recursive: true, force: true });
  return { seconds: result.seconds, size };
}

// --- the run -----------------------------------------------------------------

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tailor-bench-build-"));
try {
  execFileSync("tar", ["--version"], { stdio: "pipe" });
  const repo = path.join(scratch, "repo");
  const keys = path.join(scratch, "keys");
  fs.mkdirSync(path.join(repo, ARCH), { recursive: true });
  fs.mkdirSync(keys);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signer = {
    keyName: "tailor-bench.rsa.pub",
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    algorithm: "sha256",
  };
  fs.writeFileSync(
    path.join(keys, signer.keyName),
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );

  let started = performance.now();
  const entries = [];
  for (const definition of [...BASE, ...ADDED])
    entries.push(await writeRepositoryPackage(repo, signer, definition));
  await writeIndex(repo, signer, entries);
  const installed = (names) =>
    entries
      .filter((entry) => names.includes(entry.name))
      .reduce((sum, entry) => sum + entry.installedSize, 0);
  const compressed = entries.reduce((sum, entry) => sum + entry.size, 0);
  console.log(
    `generated ${entries.length} packages in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
      `base ${BASE.length} packages ${(installed(BASE.map((d) => d[0])) / MB).toFixed(0)} MB installed, ` +
      `+${ADDED.length} added ${(installed(ADDED.map((d) => d[0])) / MB).toFixed(0)} MB; all .apk files ${(compressed / MB).toFixed(0)} MB`,
  );

  const baseYaml = path.join(scratch, "python.yaml");
  fs.writeFileSync(
    baseYaml,
    `contents:\n  packages:\n    - python-3.12\n    - busybox\naccounts:\n  users:\n    - username: nonroot\n      uid: 65532\n  run-as: nonroot\nentrypoint:\n  command: /usr/bin/python3\nwork-dir: /home/nonroot\nenvironment:\n  LANG: C.UTF-8\n`,
  );
  const customYaml = path.join(scratch, "python-custom.yaml");
  fs.writeFileSync(
    customYaml,
    fs
      .readFileSync(baseYaml, "utf8")
      .replace("    - busybox\n", `    - busybox\n${ADDED.map((d) => `    - ${d[0]}\n`).join("")}`),
  );

  const cache = path.join(scratch, "cache");
  const out = path.join(scratch, "oci");
  const rows = [];
  const files = (report) =>
    report.images[0].packages.map((pkg) => path.join(repo, ARCH, `${pkg.name}-${pkg.version}.apk`));

  const cold = await tailorctl(baseYaml, repo, keys, out, cache, "base");
  const baseBaseline = await baseline(files(cold.report), path.join(scratch, "baseline"));
  rows.push(["cold build (empty caches)", cold, baseBaseline, 0.25]);
  const warm = await tailorctl(baseYaml, repo, keys, out, cache, "base");
  rows.push(["warm rebuild (same inputs)", warm, baseBaseline]);
  const custom = await tailorctl(customYaml, repo, keys, out, cache, "custom");
  const customBaseline = await baseline(files(custom.report), path.join(scratch, "baseline"));
  rows.push(["customization (base cached, +3 packages)", custom, customBaseline, 0.1, 1]);

  // one package version bump: sqlite-libs r0 → r1 joins the repository, the index is re-signed
  started = performance.now();
  const bumped = BASE.find((d) => d[0] === "sqlite-libs");
  entries.push(
    await writeRepositoryPackage(repo, signer, [
      bumped[0],
      "3.46.1-r1",
      bumped[2],
      bumped[3],
      bumped[4],
      bumped[5],
    ]),
  );
  await writeIndex(repo, signer, entries);
  const bump = await tailorctl(baseYaml, repo, keys, out, cache, "base");
  const bumpBaseline = await baseline(files(bump.report), path.join(scratch, "baseline"));
  rows.push(["rebuild after a version bump (sqlite-libs)", bump, bumpBaseline]);
  if (warm.report.digest !== cold.report.digest)
    console.log("WARNING: the warm rebuild gave another digest");

  const image = cold.report.images[0];
  const kinds = (report) => {
    const count = { reused: 0, written: 0, generated: 0 };
    for (const layer of report.images[0].layers) count[layer.kind]++;
    return `${count.reused}/${count.written}/${count.generated}`;
  };
  console.log(
    `image: ${image.packages.length} packages, ${(image.installedSize / MB).toFixed(0)} MB installed, ${image.layers.length} layers; baseline layer ${(baseBaseline.size / MB).toFixed(0)} MB`,
  );
  console.log(
    `tailorctl: ${main} (Node ${process.version}); baseline: GNU tar -x per package, then tar -c | gzip -6; ${os.cpus().length} CPUs`,
  );
  console.log("");
  const header = [
    "scenario",
    "tailorctl",
    "baseline",
    "ratio",
    "goal",
    "layers reused/merged/generated",
    "blobs written",
  ];
  const table = rows.map(([label, measured, base, ratioGoal, secondsGoal]) => {
    const ratio = measured.seconds / base.seconds;
    const goals = [];
    if (ratioGoal !== undefined)
      goals.push(`≤ ${ratioGoal}× ${ratio <= ratioGoal ? "met" : "MISSED"}`);
    if (secondsGoal !== undefined)
      goals.push(`≤ ${secondsGoal} s ${measured.seconds <= secondsGoal ? "met" : "MISSED"}`);
    return [
      label,
      `${measured.seconds.toFixed(2)} s`,
      `${base.seconds.toFixed(2)} s`,
      `${ratio.toFixed(3)}×`,
      goals.join(", ") || "-",
      kinds(measured.report),
      `${measured.report.blobs.written} (${(measured.report.blobs.writtenBytes / MB).toFixed(1)} MB)`,
    ];
  });
  const widths = header.map((_, column) =>
    Math.max(header[column].length, ...table.map((row) => row[column].length)),
  );
  const line = (cells) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of table) console.log(line(row));
} finally {
  // TAILOR_BENCH_KEEP=1 keeps the repository and layouts for a closer look
  if (process.env.TAILOR_BENCH_KEEP === "1") console.log(`kept ${scratch}`);
  else fs.rmSync(scratch, { recursive: true, force: true });
}
