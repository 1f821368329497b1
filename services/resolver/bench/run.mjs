// Benchmarks of the resolver service (npm run bench): figures are printed, not asserted.
//  1. index load: Alpine 3.19 main (5.4k packages) parsed, turned into catalog Package
//     messages, then into the resolver's universe (knownPackageFromCatalog +
//     PackageUniverse.replaceAll, as the service's loader does) — goal <= 150 ms
//  2. in-service resolve: resolveClosure (what the Resolve handler calls) of
//     "python3 curl bash gcc musl-dev nodejs git openssh" on top of a pinned source
//     image, with the entitlement/end-of-life allow predicate — goal p50 <= 2 ms
//     (apk-tools 2.14: about 40 ms as a whole process, index load included)
//  3. end to end: the Resolve RPC of the real resolver service (with the real catalog
//     and entitlement services on Postgres 127.0.0.1:5432 and NATS 127.0.0.1:4222),
//     the Alpine 3.19 index synced from a directory repository
//  4. a synthetic Wolfi-shaped universe (20k names x ~10 versions, deterministic):
//     load and resolve through the same resolver path
// Sections that need something absent (the shared fixtures, Postgres, NATS) are skipped
// with the reason; databases, NATS namespaces and temporary files are always removed.
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import { readApkIndexArchive } from "@tailor/apk";
import { catalogV1, entitlementV1, resolverV1 } from "@tailor/proto";
import { solve } from "@tailor/solver";
import { sharedFixturesDir } from "@tailor/testing";
import { resolveClosure } from "../dist/resolution/closure-planner.js";
import { knownPackageFromCatalog } from "../dist/universe/known-package.js";
import { createPackageUniverse } from "../dist/universe/package-universe.js";

const WORLD = ["python3", "curl", "bash", "gcc", "musl-dev", "nodejs", "git", "openssh"];
const ALPINE_319 = "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz";
const ALPINE_KEY = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";
const LOAD_GOAL_MS = 150;
const RESOLVE_GOAL_MS = 2;
const APK_TOOLS_MS = 40;
const RESOLVE_RUNS = 300;
const RPC_RUNS = 200;

/** Rows of the final table: measurement, value, goal, ratio. */
const rows = [];
const notes = [];
let exitCode = 0;

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

const ms = (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const ratio = (value, goal) => `${(value / goal).toFixed(2)}x of goal`;

function row(measurement, value, goal = "", verdict = "") {
  rows.push([measurement, value, goal, verdict]);
}

function progress(text) {
  process.stderr.write(`bench: ${text}\n`);
}

/** The source image every measurement resolves on top of: a minimal Alpine base. */
const BASE_IMAGE = {
  name: "alpine-base",
  mainPackage: "busybox",
  packages: ["alpine-baselayout", "busybox"],
  devPackages: [],
  generation: 1,
};

/** Catalog Package messages for index entries, as the catalog's ListIndexEntries sends them. */
function packageMessages(repository, arch, entries, endOfLife = () => false) {
  return entries.map((entry) =>
    create(catalogV1.PackageSchema, {
      repository,
      arch,
      name: entry.name,
      version: entry.version,
      checksum: entry.checksum,
      size: BigInt(entry.size),
      installedSize: BigInt(entry.installedSize),
      description: entry.description,
      url: entry.url,
      license: entry.license,
      origin: entry.origin ?? "",
      maintainer: entry.maintainer ?? "",
      commit: entry.commit ?? "",
      ...(entry.providerPriority === undefined ? {} : { providerPriority: entry.providerPriority }),
      depends: [...entry.depends],
      provides: [...entry.provides],
      installIf: [...entry.installIf],
      endOfLife: endOfLife(entry),
      file: `${arch}/${entry.name}-${entry.version}.apk`,
    }),
  );
}

/** Messages → the resolver's universe, exactly as its loader applies a full load. */
function loadUniverse(universe, messages, repository) {
  universe.replaceAll(messages.map((message) => knownPackageFromCatalog(message, repository)));
}

/**
 * Entitlements of an organization that bought the base image and was granted the
 * packages the world needs beyond it (their names from a plain solve: what an
 * administrator would have granted).
 */
function entitlementsFor(snapshot, image, world) {
  const plain = solve(snapshot.universe, {
    world: [...image.packages, ...world],
    arch: snapshot.arch,
  });
  if (!plain.ok) throw new Error(`the benchmark world has no closure at all:\n${plain.text}`);
  const grants = [...new Set(plain.packages.map((pkg) => pkg.name))].sort();
  return { orgId: "org-bench", orgName: "bench", purchased: [image], grantedPackages: grants };
}

/** Runs resolveClosure as the Resolve handler does; returns the outcome and timings. */
function benchResolve(snapshot, request, runs) {
  const first = resolveClosure(snapshot, request);
  if (!first.ok) throw new Error(`resolve failed:\n${first.failure.text}`);
  for (let i = 0; i < 30; i++) resolveClosure(snapshot, request);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    resolveClosure(snapshot, request);
    samples.push(performance.now() - start);
  }
  return { first, samples };
}

// ---------------------------------------------------------------------------
// 1 + 2: Alpine 3.19 main, in process.

async function alpineInProcess(fixtures) {
  const file = path.join(fixtures, ALPINE_319);
  const bytes = new Uint8Array(await readFile(file));
  const repository = { name: "alpine", tag: undefined, priority: 0 };
  let messages = [];
  let universe = createPackageUniverse();
  const parse = async () => {
    const index = await readApkIndexArchive(bytes, { file });
    messages = packageMessages("alpine", "x86_64", index.entries);
  };
  const build = () => {
    universe.close();
    universe = createPackageUniverse();
    loadUniverse(universe, messages, repository);
  };
  for (let i = 0; i < 3; i++) {
    await parse();
    build();
  }
  const parseTimes = [];
  const buildTimes = [];
  const totalTimes = [];
  for (let i = 0; i < 15; i++) {
    const a = performance.now();
    await parse();
    const b = performance.now();
    build();
    const c = performance.now();
    parseTimes.push(b - a);
    buildTimes.push(c - b);
    totalTimes.push(c - a);
  }
  const snapshot = universe.snapshot("x86_64");
  const load = percentile(totalTimes, 50);
  row(
    `index load Alpine 3.19 main (${snapshot.packageCount} pkgs): parse + messages + universe, median of 15`,
    ms(load),
    `<= ${LOAD_GOAL_MS} ms`,
    ratio(load, LOAD_GOAL_MS),
  );
  row("  of which APKINDEX.tar.gz parse + Package messages", ms(percentile(parseTimes, 50)));
  row(
    "  of which knownPackageFromCatalog + replaceAll (service loader path)",
    ms(percentile(buildTimes, 50)),
  );

  const request = {
    image: BASE_IMAGE,
    devVariant: false,
    added: WORLD,
    entitlements: entitlementsFor(snapshot, BASE_IMAGE, WORLD),
  };
  const { first, samples } = benchResolve(snapshot, request, RESOLVE_RUNS);
  const p50 = percentile(samples, 50);
  const pinned = first.packages.filter((pkg) => pkg.pinned).length;
  row(
    `in-service resolve (resolveClosure) base + ${WORLD.length} atoms -> ${first.packages.length} pkgs (${pinned} pinned), p50 of ${RESOLVE_RUNS}`,
    ms(p50),
    `<= ${RESOLVE_GOAL_MS} ms`,
    ratio(p50, RESOLVE_GOAL_MS),
  );
  row("  p95", ms(percentile(samples, 95)));
  // What the solver alone takes for the same atoms (no pins, no allow predicate, no
  // entitlement map): the rest of the figure above is the resolver's own work.
  const bareRequest = { world: [...BASE_IMAGE.packages, ...WORLD], arch: snapshot.arch };
  for (let i = 0; i < 30; i++) solve(snapshot.universe, bareRequest);
  const bare = await times(RESOLVE_RUNS, () => solve(snapshot.universe, bareRequest));
  row("  for scale: bare solve() of the same atoms (no pins/allow), p50", ms(percentile(bare, 50)));
  row(
    "  vs apk-tools 2.14 whole process (~40 ms, index load incl.)",
    `${(APK_TOOLS_MS / p50).toFixed(1)}x faster`,
    "",
    `resolve p50 / 40 ms = ${(p50 / APK_TOOLS_MS).toFixed(3)}`,
  );
  row(
    "  index load + one resolve vs apk-tools' ~40 ms",
    ms(load + p50),
    `~${APK_TOOLS_MS} ms (apk)`,
    `${((load + p50) / APK_TOOLS_MS).toFixed(2)}x apk's time`,
  );
  universe.close();
  return { grants: request.entitlements.grantedPackages, closureSize: first.packages.length };
}

// ---------------------------------------------------------------------------
// 3: the real services over gRPC.

async function alpineEndToEnd(fixtures, grants, cleanups) {
  let testing;
  try {
    testing = await import("@tailor/testing");
  } catch (error) {
    return `@tailor/testing is not built (${error.message})`;
  }
  const { createTestDatabase, createTestNats, startTestService, testLogger, testPlatformConfig } =
    testing;
  const { waitFor } = testing;
  const { authorizationMetadata, generateApiKey } = await import("@tailor/auth");
  const { createDirectoryBlobStore } = await import("@tailor/blob");
  const { createCatalogService } = await import("@tailor/catalog");
  const { createEntitlementService } = await import("@tailor/entitlement");
  const { createGrpcClient, createHealthClient } = await import("@tailor/grpc");
  const { createResolverService } = await import("../dist/index.js");
  const logger = testLogger();

  let nats;
  let pg;
  try {
    nats = await createTestNats();
    cleanups.push(() => nats.cleanup());
    pg = await createTestDatabase({ logger });
    cleanups.push(() => pg.cleanup());
  } catch (error) {
    return `Postgres/NATS unavailable: ${error.message.split("\n")[0]}`;
  }
  const workDir = await mkdtemp(path.join(tmpdir(), "tailor-resolver-bench-"));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  const blobs = await createDirectoryBlobStore({ root: path.join(workDir, "blobs") });
  cleanups.push(() => blobs.close());
  const config = await testPlatformConfig(nats);
  const adminKey = generateApiKey().credential;
  const serviceKey = generateApiKey().credential;
  const start = async (definition) => {
    const service = await startTestService(definition, {
      database: pg.database,
      nats,
      config,
      logger,
    });
    cleanups.push(() => service.stop());
    return service;
  };
  const client = (service, address, options = {}) => {
    const made = createGrpcClient(service, { address, ...options });
    cleanups.push(() => made.close());
    return made;
  };

  progress("starting entitlement and catalog services");
  await start(
    createEntitlementService({
      environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, TAILOR_SERVICE_API_KEY: serviceKey },
    }),
  );
  await start(
    createCatalogService({ environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" }, blobs }),
  );
  const entitlement = client(entitlementV1.EntitlementService, config.entitlementAddress);
  const catalog = client(catalogV1.CatalogService, config.catalogAddress, {
    defaultDeadlineMs: 120_000,
  });
  const resolver = client(resolverV1.ResolverService, config.resolverAddress);
  const as = async (apiKey) => {
    const { token } = await entitlement.issueToken({
      apiKey,
      audience: entitlementV1.Audience.API,
    });
    return { metadata: authorizationMetadata(token) };
  };
  const admin = await as(adminKey);

  // Alpine 3.19 main as a directory repository (a copy: symlinks out of it are refused).
  const alpineDir = path.join(workDir, "alpine");
  await mkdir(path.join(alpineDir, "x86_64"), { recursive: true });
  await copyFile(
    path.join(fixtures, ALPINE_319),
    path.join(alpineDir, "x86_64", "APKINDEX.tar.gz"),
  );
  const pem = await readFile(path.join(fixtures, "alpine-keys", ALPINE_KEY), "utf8");
  await catalog.createRepository(
    {
      name: "alpine",
      kind: catalogV1.RepositoryKind.UPSTREAM,
      url: alpineDir,
      arches: ["x86_64"],
      trustedKeys: [{ name: ALPINE_KEY, pem }],
    },
    admin,
  );
  progress("syncing Alpine 3.19 main into the catalog");
  const syncStarted = performance.now();
  await catalog.syncRepository({ name: "alpine" }, admin);
  const syncMs = performance.now() - syncStarted;
  await catalog.putSourceImage(
    {
      name: BASE_IMAGE.name,
      mainPackage: BASE_IMAGE.mainPackage,
      yaml: [
        "contents:",
        "  repositories:",
        "    - https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
        "  packages:",
        ...BASE_IMAGE.packages.map((name) => `    - ${name}`),
        "cmd: /bin/sh",
        "",
      ].join("\n"),
    },
    admin,
  );
  const orgId =
    (await entitlement.createOrganization({ name: "bench" }, admin)).organization?.id ?? "";
  await entitlement.addPurchase({ orgId, sourceImage: BASE_IMAGE.name }, admin);
  for (const packageName of grants) {
    await entitlement.grantPackage({ orgId, packageName, reason: "benchmark" }, admin);
  }
  const { identity } = await entitlement.createIdentity(
    { orgId, name: "bench-viewer", role: entitlementV1.Role.VIEWER },
    admin,
  );
  const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
  const viewer = await as(secret);

  progress("starting the resolver and waiting for SERVING");
  const bootStarted = performance.now();
  await start(createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }));
  const health = createHealthClient(config.resolverAddress);
  cleanups.push(() => health.close());
  await waitFor(
    async () =>
      (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
    { timeoutMs: 120_000, intervalMs: 10 },
  );
  const bootMs = performance.now() - bootStarted;

  const request = { orgId, sourceImage: BASE_IMAGE.name, arch: "x86_64", packages: WORLD };
  const firstStarted = performance.now();
  const first = await resolver.resolve(request, viewer);
  const firstMs = performance.now() - firstStarted;
  if (!first.ok) throw new Error(`Resolve RPC failed:\n${first.failure?.text}`);
  progress(`timing ${RPC_RUNS} Resolve calls`);
  await times(30, () => resolver.resolve(request, viewer));
  const samples = await times(RPC_RUNS, () => resolver.resolve(request, viewer));
  const p50 = percentile(samples, 50);

  row(`catalog sync of Alpine 3.19 main from a directory (index -> Postgres)`, ms(syncMs));
  row("resolver bootstrap: start -> SERVING (catalog stream + universe build)", ms(bootMs));
  row("first Resolve RPC (source image + entitlements fetched, cold caches)", ms(firstMs));
  row(
    `Resolve RPC end to end (auth + GetEntitlements + resolve -> ${first.packages.length} pkgs), p50 of ${RPC_RUNS}`,
    ms(p50),
    `(in-service goal ${RESOLVE_GOAL_MS} ms)`,
    `${(APK_TOOLS_MS / p50).toFixed(1)}x faster than apk's ~40 ms`,
  );
  row("  p95", ms(percentile(samples, 95)));

  // A baseline for the gRPC + auth overhead alone: a call that does no resolving.
  const info = await times(RPC_RUNS, () => resolver.getUniverseStatus({}, viewer));
  row("  for scale: GetUniverseStatus RPC (auth only, no resolve), p50", ms(percentile(info, 50)));
  return undefined;
}

// ---------------------------------------------------------------------------
// 4: a synthetic Wolfi-shaped universe.

/**
 * 20k names, 5..15 versions each (~10), deterministic: one repository, mostly x86_64
 * with some noarch, `so:`/`cmd:` provides versioned like Wolfi's, dependencies on
 * lower-numbered names (by name, by `so:`, some with `>=`), and the two oldest
 * versions of every name end-of-life (never chosen for a customization).
 */
function wolfiShaped(names) {
  let seed = 20_000;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const entries = [];
  for (let n = 0; n < names; n++) {
    const count = 5 + Math.floor(random() * 11);
    const deps = [];
    const depCount = n < 50 ? 0 : Math.floor(random() * 6);
    for (let d = 0; d < depCount; d++) {
      const target = Math.floor(random() * n);
      const pick = random();
      if (pick < 0.3) deps.push(`so:libpkg${target}.so.1`);
      else if (pick < 0.4) deps.push(`pkg${target}>=1.1.0`);
      else deps.push(`pkg${target}`);
    }
    const unique = [...new Set(deps)];
    for (let v = 1; v <= count; v++) {
      const version = `${1 + Math.floor(v / 4)}.${v % 4}.0-r${v}`;
      entries.push({
        name: `pkg${n}`,
        version,
        arch: n % 7 === 0 ? "noarch" : "x86_64",
        checksum: `Q1${(n * 16 + v).toString(36).padStart(10, "0")}${"A".repeat(17)}=`,
        size: 1000 + n,
        installedSize: 4000 + n * 3,
        description: `synthetic package ${n}`,
        url: "",
        license: "MIT",
        origin: `pkg${n}`,
        depends: unique,
        provides: [`so:libpkg${n}.so.1=${v}`, `cmd:pkg${n}=${version}`],
        installIf: [],
        endOfLife: v <= 2,
      });
    }
  }
  return entries;
}

function wolfiInProcess() {
  const entries = wolfiShaped(20_000);
  const messages = packageMessages("wolfi", "x86_64", entries, (entry) => entry.endOfLife);
  const repository = { name: "wolfi", tag: undefined, priority: 0 };
  let universe = createPackageUniverse();
  const loadTimes = [];
  for (let i = 0; i < 4; i++) {
    universe.close();
    universe = createPackageUniverse();
    const start = performance.now();
    loadUniverse(universe, messages, repository);
    loadTimes.push(performance.now() - start);
  }
  const snapshot = universe.snapshot("x86_64");
  const image = {
    name: "wolfi-base",
    mainPackage: "pkg0",
    packages: ["pkg0", "pkg1", "pkg2"],
    devPackages: [],
    generation: 1,
  };
  const world = [
    "pkg19999",
    "pkg15000",
    "pkg12345",
    "pkg10001",
    "pkg5000",
    "pkg19000",
    "pkg17777",
    "pkg8888",
  ];
  const request = {
    image,
    devVariant: false,
    added: world,
    entitlements: entitlementsFor(snapshot, image, world),
  };
  const { first, samples } = benchResolve(snapshot, request, 50);
  row(
    `Wolfi-shaped load (${snapshot.packageCount} pkgs, 20000 names): knownPackageFromCatalog + replaceAll, median of 3 after 1 warm-up`,
    ms(percentile(loadTimes.slice(1), 50)),
  );
  row(
    `Wolfi-shaped resolve base + ${world.length} atoms -> ${first.packages.length} pkgs (EOL versions refused), p50 of 50`,
    ms(percentile(samples, 50)),
  );
  row("  p95", ms(percentile(samples, 95)));
  universe.close();
}

// ---------------------------------------------------------------------------

function printTable() {
  const header = ["measurement", "value", "goal", "ratio"];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
  for (const note of notes) console.log(note);
}

const cleanups = [];
let cleaning = Promise.resolve();
let interrupted = false;
/** Runs the registered cleanup steps, newest first; concurrent callers wait for the same run. */
function cleanUp() {
  cleaning = cleaning.then(async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop();
      try {
        await step();
      } catch (error) {
        progress(`cleanup step failed: ${error.message}`);
      }
    }
  });
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    interrupted = true;
    progress(`${signal}: cleaning up`);
    cleanUp().finally(() => process.exit(130));
  });
}

/**
 * Runs one section; a failure is reported in the table's notes and makes the exit
 * code 1, and the next sections still run. Cleanup steps run after every section.
 */
async function section(name, work) {
  if (interrupted) return undefined;
  progress(name);
  try {
    return await work();
  } catch (error) {
    if (!interrupted) {
      exitCode = 1;
      notes.push(`${name} FAILED: ${error.stack ?? error}`);
    }
    return undefined;
  } finally {
    await cleanUp();
  }
}

const fixtures = sharedFixturesDir();
if (fixtures === undefined) {
  notes.push(
    "Alpine measurements (1-3) skipped: shared/fixtures/real not found next to the repository (set TAILOR_FIXTURES_DIR)",
  );
} else {
  const alpine = await section("Alpine 3.19 in process", () => alpineInProcess(fixtures));
  if (process.env.TAILOR_BENCH_SKIP_E2E === "1") {
    notes.push("end-to-end gRPC measurement skipped: TAILOR_BENCH_SKIP_E2E=1");
  } else if (alpine !== undefined) {
    await section("Alpine 3.19 end to end over gRPC", async () => {
      const skipped = await alpineEndToEnd(fixtures, alpine.grants, cleanups);
      if (skipped !== undefined) notes.push(`end-to-end gRPC measurement skipped: ${skipped}`);
    });
  }
}
await section("synthetic Wolfi-shaped universe", wolfiInProcess);
await cleaning;
if (interrupted) {
  // The signal handler exits once cleanup is done.
  await new Promise(() => {});
}
console.log(
  `resolver benchmarks (node ${process.version}, ${(await import("node:os")).cpus().length} CPUs; figures, not assertions)`,
);
printTable();
process.exit(exitCode);
