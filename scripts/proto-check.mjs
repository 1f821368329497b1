// CI guard for proto/: buf lint, generated code up to date, and no breaking
// change against main. Run with `npm run proto:check`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const protoDir = path.join(root, "proto");
const genDir = path.join(root, "libs/proto/src/gen");
const bin = path.join(root, "node_modules/.bin");
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` };

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

function listFiles(dir, prefix = "") {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(prefix, entry.name);
    return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
  });
}

let failed = false;

const lint = run("buf", ["lint"], protoDir);
if (!lint.ok) {
  failed = true;
  console.error(`proto: buf lint failed:\n${lint.output}`);
} else console.log("proto: buf lint OK");

// Regenerate and compare with what is in the tree.
const before = fs.mkdtempSync(path.join(os.tmpdir(), "tailor-gen-"));
fs.cpSync(genDir, before, { recursive: true });
const generate = run("buf", ["generate"], protoDir);
if (!generate.ok) {
  failed = true;
  console.error(`proto: buf generate failed:\n${generate.output}`);
} else {
  const names = new Set([...listFiles(before), ...listFiles(genDir)]);
  const stale = [...names].filter((name) => {
    const a = path.join(before, name);
    const b = path.join(genDir, name);
    return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
  });
  if (stale.length > 0) {
    failed = true;
    console.error(
      `proto: generated code was stale (${stale.join(", ")}); it has been regenerated: commit libs/proto/src/gen`,
    );
  } else console.log("proto: generated code up to date");
}
fs.rmSync(before, { recursive: true, force: true });

// Breaking changes against main (skipped where main has no proto/ yet).
const hasMain = run("git", ["cat-file", "-e", "main:proto/buf.yaml"], root).ok;
if (hasMain) {
  const breaking = run(
    "buf",
    ["breaking", "proto", "--against", ".git#branch=main,subdir=proto"],
    root,
  );
  if (!breaking.ok) {
    failed = true;
    console.error(`proto: breaking changes against main:\n${breaking.output}`);
  } else console.log("proto: no breaking change against main");
} else console.log("proto: main has no proto/ yet; breaking check skipped");

process.exit(failed ? 1 : 0);
