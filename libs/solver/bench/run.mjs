// Benchmarks of @tailor/solver (npm run bench): figures are printed, not asserted.
//  1. load Alpine 3.19 main (5.4k packages): APKINDEX.tar.gz parse + createUniverse (goal <= 150 ms)
//  2. resolve "python3 curl bash gcc musl-dev nodejs git openssh" against it (goal p50 <= 2 ms),
//     bare and as the resolver asks: a source image pinned (the closure of
//     alpine-baselayout busybox at exact versions) and an entitlement predicate
//     allowing the names of the world's closure plus a few (refusing the rest)
//  3. a synthetic Wolfi-shaped universe (20k names x ~10 versions): load and resolve
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { readApkIndexArchive } from "@tailor/apk";
import { createUniverse, formatInstallOutput, solve, universeFromIndexes } from "../dist/index.js";

function findFixtures() {
  const override = process.env.TAILOR_FIXTURES_DIR;
  if (override) return fs.existsSync(override) ? override : undefined;
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, "shared", "fixtures", "real");
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function times(runs, fn) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    out.push(performance.now() - start);
  }
  return out;
}

const ms = (v) => `${v.toFixed(2)} ms`;
const WORLD = ["python3", "curl", "bash", "gcc", "musl-dev", "nodejs", "git", "openssh"];

const fixtures = findFixtures();
if (fixtures === undefined) {
  console.log("Alpine benchmarks skipped: shared/fixtures/real not found");
} else {
  const file = path.join(
    fixtures,
    "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz",
  );
  const bytes = new Uint8Array(fs.readFileSync(file));
  let universe;
  const load = async () => {
    const index = await readApkIndexArchive(bytes, { file });
    universe = universeFromIndexes([{ repository: "main", entries: index.entries }]);
  };
  await times(3, load);
  const loadTimes = await times(15, load);
  const loadP50 = percentile(loadTimes, 50);
  console.log(
    `load Alpine 3.19 main (${universe.size} packages, ${universe.nameCount} names; parse + createUniverse): ` +
      `median ${ms(loadP50)}, best ${ms(Math.min(...loadTimes))} (goal <= 150 ms: ${(loadP50 / 150).toFixed(2)}x of budget)`,
  );
  const request = { world: WORLD, arch: "x86_64" };
  const first = solve(universe, request);
  for (let i = 0; i < 20; i++) solve(universe, request);
  const solveTimes = await times(200, () => solve(universe, request));
  const p50 = percentile(solveTimes, 50);
  const count = first.ok ? first.packages.length : 0;
  console.log(
    `resolve ${WORLD.join(" ")} -> ${first.ok ? `${count} packages` : "FAILED"}: ` +
      `p50 ${ms(p50)}, p95 ${ms(percentile(solveTimes, 95))} over 200 runs (goal p50 <= 2 ms: ${(p50 / 2).toFixed(2)}x of budget; apk-tools ~40 ms per process)`,
  );
  if (!first.ok) console.log(formatInstallOutput(first));

  const image = solve(universe, { world: ["alpine-baselayout", "busybox"], arch: "x86_64" });
  const pinned = image.ok ? image.packages.map((p) => ({ name: p.name, version: p.version })) : [];
  const entitled = new Set([
    ...(first.ok ? first.packages.map((p) => p.name) : []),
    ...["jq", "vim", "less", "ca-certificates"],
  ]);
  let asked = 0;
  const realistic = {
    world: WORLD,
    arch: "x86_64",
    pinned,
    allow: (pkg) => {
      asked++;
      return entitled.has(pkg.name);
    },
  };
  const firstRealistic = solve(universe, realistic);
  asked = 0;
  for (let i = 0; i < 20; i++) solve(universe, realistic);
  const askedPerSolve = asked / 20;
  const realisticTimes = await times(200, () => solve(universe, realistic));
  const realisticP50 = percentile(realisticTimes, 50);
  console.log(
    `resolve it with ${pinned.length} pinned and allow (${entitled.size} names) -> ` +
      `${firstRealistic.ok ? `${firstRealistic.packages.length} packages` : "FAILED"}: ` +
      `p50 ${ms(realisticP50)}, p95 ${ms(percentile(realisticTimes, 95))} over 200 runs, ${askedPerSolve} allow calls per solve (goal p50 <= 2 ms: ${(realisticP50 / 2).toFixed(2)}x of budget)`,
  );
  if (!firstRealistic.ok) console.log(formatInstallOutput(firstRealistic));
}

// Synthetic Wolfi-shaped universe: 20k names, ~10 versions each (deterministic).
function* wolfi(names) {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let n = 0; n < names; n++) {
    const count = 5 + Math.floor(random() * 11); // 5..15, ~10 on average
    const deps = [];
    const depCount = n < 50 ? 0 : Math.floor(random() * 6);
    for (let d = 0; d < depCount; d++) {
      const target = Math.floor(random() * n); // only lower names: no cycles
      deps.push(random() < 0.3 ? `so:libpkg${target}.so.1` : `pkg${target}`);
    }
    for (let v = 1; v <= count; v++) {
      const id = n * 16 + v;
      yield {
        name: `pkg${n}`,
        version: `${1 + Math.floor(v / 4)}.${v % 4}.0-r${v}`,
        arch: n % 7 === 0 ? "noarch" : "x86_64",
        repository: "wolfi",
        checksum: `Q1${id.toString(36).padStart(10, "0")}${"A".repeat(17)}=`,
        size: 1000 + n,
        installedSize: 4000 + n,
        depends: deps,
        provides: [`so:libpkg${n}.so.1=${v}`, `cmd:pkg${n}=${v}`],
        installIf: [],
      };
    }
  }
}
const packages = [...wolfi(20000)];
const loadTimes = await times(3, () => createUniverse(packages));
const big = createUniverse(packages);
const worldBig = [
  "pkg19999",
  "pkg15000",
  "pkg12345",
  "pkg10001",
  "pkg5000",
  "pkg19000",
  "pkg17777",
  "pkg8888",
];
const firstBig = solve(big, { world: worldBig, arch: "x86_64" });
const bigTimes = await times(30, () => solve(big, { world: worldBig, arch: "x86_64" }));
console.log(
  `synthetic Wolfi-shaped universe (${big.size} packages, ${big.nameCount} names): createUniverse median ${ms(percentile(loadTimes, 50))}; ` +
    `resolve ${worldBig.length} atoms -> ${firstBig.ok ? `${firstBig.packages.length} packages` : "FAILED"}: p50 ${ms(percentile(bigTimes, 50))}, p95 ${ms(percentile(bigTimes, 95))}`,
);
