// Benchmark of the builder service (npm run bench): figures are printed, not asserted.
// Builds per minute of a job mix with 1 and 2 worker PROCESSES
// (`node dist/main.js`, TAILOR_BUILDER_ROLE=worker, TAILOR_BUILDER_WORKERS builds
// each, every process with its own package cache as on its own machine), all
// sharing one Postgres database (127.0.0.1:5432), one NATS namespace
// (127.0.0.1:4222) and one blob directory, with the entitlement, catalog and
// resolver services and an api-role builder running in this process.
// The job mix: BENCH_IMAGES custom images of one source image (8 packages,
// ~8 MB), each adding 2 packages of its own (~1.5 MB each, half text, half
// random bytes), so every build resolves, fetches, inspects new packages and
// writes its merged layers. Each configuration starts from nothing (new
// database, namespace, blob store); setup is not timed.
import { spawn } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { writePackage } from "@tailor/apk";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import { createDirectoryBlobStore } from "@tailor/blob";
import { createCatalogService } from "@tailor/catalog";
import { createEntitlementService } from "@tailor/entitlement";
import { createGrpcClient, createHealthClient } from "@tailor/grpc";
import { builderV1, catalogV1, entitlementV1, resolverV1 } from "@tailor/proto";
import { createResolverService } from "@tailor/resolver";
import {
  createTestDatabase,
  createTestNats,
  freePort,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { createBuilderService } from "../dist/index.js";

const IMAGES = Number(process.env.BENCH_IMAGES ?? 16);
const WORKERS_PER_PROCESS = Number(process.env.BENCH_WORKERS_PER_PROCESS ?? 2);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const logger = testLogger();
const { BuildStatus } = builderV1;
const ENDED = new Set([
  BuildStatus.SUCCEEDED,
  BuildStatus.FAILED,
  BuildStatus.CANCELLED,
  BuildStatus.UP_TO_DATE,
]);

/** Deterministic bytes: sha256 in counter mode over a seed. */
function noise(seed, size) {
  const out = Buffer.alloc(size);
  for (let at = 0, n = 0; at < size; n++) {
    const block = createHash("sha256").update(`${seed}:${n}`).digest();
    at += block.copy(out, at);
  }
  return out;
}

const WORDS =
  "def class import return self value module package build layer image python lambda yield async await".split(
    " ",
  );
function prose(seed, size) {
  const pick = noise(seed, Math.ceil(size / 5));
  const words = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const word = WORDS[(pick[i % pick.length] ?? 0) % WORDS.length];
    words.push(word);
    length += word.length + 1;
  }
  return Buffer.from(words.join(" ").slice(0, size));
}

function signingKey() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    signer: {
      keyName: "bench.rsa.pub",
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      algorithm: "sha256",
    },
    trustedKey: {
      name: "bench.rsa.pub",
      pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
  };
}

/** A package of ~`size` bytes installed: half text-like, half incompressible. */
function benchPackage(name, size, signer, depends = []) {
  const files = [];
  const perFile = 128 * 1024;
  for (let n = 0; n * perFile < size; n++) {
    const seed = `${name}/${n}`;
    files.push({
      path: n % 2 === 0 ? `usr/lib/${name}/mod${n}.py` : `usr/lib/${name}/mod${n}.so`,
      type: "file",
      content: n % 2 === 0 ? prose(seed, perFile) : noise(seed, perFile),
    });
  }
  return writePackage({
    pkginfo: {
      name,
      version: "1.0-r0",
      arch: "x86_64",
      license: "MIT",
      description: `${name} for the builder benchmark`,
      builddate: 1_700_000_000,
      depends,
    },
    files,
    mtime: 1_700_000_000,
    signer,
  });
}

function sourceYaml() {
  return [
    "contents:",
    "  repositories:",
    "    - https://packages.example.test/bench",
    "  packages:",
    "    - py",
    "dev:",
    "  packages:",
    "    - py-shell",
    "archs:",
    "  - x86_64",
    "",
  ].join("\n");
}

/** Spawns one worker process; resolves once its gRPC health answers. */
async function startWorker(index, { pg, nats, config, blobDir, workDir, serviceKey }) {
  const listen = `127.0.0.1:${await freePort()}`;
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      NATS_URL: nats.url,
      TAILOR_NATS_NAMESPACE: nats.namespace,
      TAILOR_ENTITLEMENT_GRPC_ADDRESS: config.entitlementAddress,
      TAILOR_CATALOG_GRPC_ADDRESS: config.catalogAddress,
      TAILOR_RESOLVER_GRPC_ADDRESS: config.resolverAddress,
      TAILOR_BUILDER_GRPC_ADDRESS: config.builderAddress,
      TAILOR_GRPC_LISTEN_ADDRESS: listen,
      TAILOR_HTTP_PORT: "0",
      TAILOR_DATA_DIR: path.join(workDir, `worker-${index}`),
      TAILOR_BLOB_STORE: blobDir,
      TAILOR_SERVICE_API_KEY: serviceKey,
      TAILOR_BUILDER_ROLE: "worker",
      TAILOR_BUILDER_WORKERS: String(WORKERS_PER_PROCESS),
      TAILOR_BUILDER_CACHE_DIR: path.join(workDir, `worker-${index}`, "cache"),
      TAILOR_LOG_LEVEL: "warn",
      TAILOR_LOG_FORMAT: "json",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const health = createHealthClient(listen, { defaultDeadlineMs: 500 });
  try {
    await waitFor(async () => (await health.check("").catch(() => undefined)) === "SERVING", {
      timeoutMs: 30_000,
      message: `worker ${index} did not serve at ${listen}`,
    });
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${error.message}\n${output}`);
  } finally {
    health.close();
  }
  return {
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** One configuration from nothing: services, packages, images, N worker processes, the job mix. */
async function runMix(processes) {
  const cleanups = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    const nats = await createTestNats();
    cleanups.push(() => nats.cleanup());
    const pg = await createTestDatabase({ logger });
    cleanups.push(() => pg.cleanup());
    const workDir = await mkdtemp(path.join(tmpdir(), "tailor-builder-bench-"));
    cleanups.push(() => rm(workDir, { recursive: true, force: true }));
    const blobDir = path.join(workDir, "blobs");
    const blobs = await createDirectoryBlobStore({ root: blobDir });
    cleanups.push(() => blobs.close());
    const config = await testPlatformConfig(nats);
    const adminKey = generateApiKey().credential;
    const serviceKey = generateApiKey().credential;
    const on = { database: pg.database, nats, config, logger };
    const start = async (definition) => {
      const service = await startTestService(definition, on);
      cleanups.push(() => service.stop());
    };
    await start(
      createEntitlementService({
        environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey, TAILOR_SERVICE_API_KEY: serviceKey },
      }),
    );
    await start(
      createCatalogService({ environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" }, blobs }),
    );
    const entitlement = createGrpcClient(entitlementV1.EntitlementService, {
      address: config.entitlementAddress,
    });
    const catalog = createGrpcClient(catalogV1.CatalogService, { address: config.catalogAddress });
    const builder = createGrpcClient(builderV1.BuilderService, { address: config.builderAddress });
    cleanups.push(async () => {
      entitlement.close();
      catalog.close();
      builder.close();
    });
    const as = async (apiKey) => {
      const { token } = await entitlement.issueToken({
        apiKey,
        audience: entitlementV1.Audience.API,
      });
      return { metadata: authorizationMetadata(token) };
    };
    const admin = await as(adminKey);

    const key = signingKey();
    await catalog.createRepository(
      {
        name: "bench",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    const publish = async (bytes) =>
      catalog.publishPackage({ repository: "bench", content: bytes }, admin);
    const base = ["py-base", "py-libc", "py-ssl", "py-zlib", "py-ffi", "py-stdlib"];
    for (const name of base) await publish(await benchPackage(name, 1_000_000, key.signer));
    await publish(await benchPackage("py", 1_000_000, key.signer, base));
    await publish(await benchPackage("py-shell", 200_000, key.signer));
    const added = [];
    for (let i = 0; i < IMAGES; i++) {
      const names = [`app${i}-lib`, `app${i}-bin`];
      for (const name of names) await publish(await benchPackage(name, 1_500_000, key.signer));
      added.push(names);
    }
    await catalog.putSourceImage({ name: "python", yaml: sourceYaml(), mainPackage: "py" }, admin);
    const orgId =
      (await entitlement.createOrganization({ name: "bench" }, admin)).organization?.id ?? "";
    await entitlement.addPurchase({ orgId, sourceImage: "python" }, admin);
    for (const names of added) {
      for (const packageName of names) {
        await entitlement.grantPackage({ orgId, packageName, reason: "bench" }, admin);
      }
    }
    await entitlement.setCustomAssembly(
      { orgId, enabled: true, customizableSourceImages: ["python"] },
      admin,
    );
    const { identity } = await entitlement.createIdentity(
      { orgId, name: "bench", role: entitlementV1.Role.EDITOR },
      admin,
    );
    const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
    const editor = await as(secret);

    await start(createResolverService({ environment: { TAILOR_SERVICE_API_KEY: serviceKey } }));
    const health = createHealthClient(config.resolverAddress);
    await waitFor(
      async () =>
        (await health.check(resolverV1.ResolverService.typeName)) === "SERVING" || undefined,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    health.close();
    // The api role: BuilderService and the planner; no workers in this process.
    await start(
      createBuilderService({
        environment: {
          TAILOR_SERVICE_API_KEY: serviceKey,
          TAILOR_BUILDER_ROLE: "api",
          TAILOR_BUILDER_PLANNER_DEBOUNCE_MS: "600000",
        },
        blobs,
      }),
    );
    for (let i = 0; i < IMAGES; i++) {
      await catalog.createCustomImage(
        { orgId, name: `app${i}`, sourceImage: "python", overlay: { packages: added[i] } },
        editor,
      );
    }

    const workers = [];
    for (let i = 0; i < processes; i++) {
      const worker = await startWorker(i, { pg, nats, config, blobDir, workDir, serviceKey });
      workers.push(worker);
      cleanups.push(() => worker.stop());
    }

    const started = performance.now();
    const startedAt = Date.now();
    const ids = [];
    for (let i = 0; i < IMAGES; i++) {
      const { build } = await builder.requestBuild({ orgId, customImage: `app${i}` }, editor);
      ids.push(build?.id ?? "");
    }
    const builds = await waitFor(
      async () => {
        const current = [];
        for (const buildId of ids) {
          const { build } = await builder.getBuild({ buildId }, editor);
          if (build === undefined || !ENDED.has(build.status)) return undefined;
          current.push(build);
        }
        return current;
      },
      { timeoutMs: 600_000, intervalMs: 100 },
    );
    const wallMs = performance.now() - started;
    const failed = builds.filter((build) => build.status !== BuildStatus.SUCCEEDED);
    if (failed.length > 0) {
      throw new Error(
        `${failed.length} builds did not succeed: ${failed
          .map((build) => `${build.customImage}: ${build.failureReason} ${build.failureMessage}`)
          .join("; ")}\n${workers.map((worker) => worker.output()).join("\n")}`,
      );
    }
    const lastEnd = Math.max(
      ...builds.map((build) =>
        build.finishedAt === undefined ? Date.now() : timestampDate(build.finishedAt).getTime(),
      ),
    );
    const spanMs = Math.max(1, lastEnd - startedAt);
    const durations = builds
      .map((build) =>
        build.startedAt === undefined || build.finishedAt === undefined
          ? 0
          : timestampDate(build.finishedAt).getTime() - timestampDate(build.startedAt).getTime(),
      )
      .sort((a, b) => a - b);
    return {
      processes,
      builds: builds.length,
      spanMs,
      wallMs,
      perMinute: (builds.length / spanMs) * 60_000,
      medianBuildMs: durations[Math.floor(durations.length / 2)] ?? 0,
    };
  } finally {
    await cleanup();
  }
}

console.log(
  `builder benchmark: ${IMAGES} builds (one per custom image; 8 base packages ~8 MB + 2 own packages ~3 MB each), ` +
    `${WORKERS_PER_PROCESS} builds at once per worker process, ${cpus().length} CPUs`,
);
const results = [];
for (const processes of [1, 2]) {
  const result = await runMix(processes);
  results.push(result);
  console.log(
    `${processes} worker process${processes === 1 ? "" : "es"}: ${result.builds} builds in ` +
      `${(result.spanMs / 1000).toFixed(2)} s = ${result.perMinute.toFixed(1)} builds/min ` +
      `(median build ${Math.round(result.medianBuildMs)} ms)`,
  );
}
const [one, two] = results;
console.log(`ratio 2 vs 1 worker processes: ${(two.perMinute / one.perMinute).toFixed(2)}x`);
