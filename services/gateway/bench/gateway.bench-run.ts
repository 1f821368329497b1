// Benchmark of the gateway (npm run bench): figures are printed, not asserted.
// All six services and the gateway run in this process on real Postgres
// (127.0.0.1:5432) and NATS (127.0.0.1:4222), seeded by the end-to-end tests'
// platform (test/support/platform.ts); requests go over HTTP with fetch
// (keep-alive, like a real client). Latencies are per request, "req/s" is
// requests over wall time, MB = 2^20 bytes. Setup (publishing, granting,
// building) is not timed unless a line says so.
// 1. Registry: GET manifest by tag and by digest with basic auth and an API
//    key (the first request exchanges the key, later ones hit the cache) vs a
//    registry token as bearer, sequential and with BENCH_CONCURRENCY; HEAD vs GET.
// 2. Blob download: a layer holding a BENCH_BLOB_MB (default 64) file of
//    random bytes: MB/s and the process's peak RSS growth during the download
//    (the process holds gateway and client alike); 16 1 MB Ranges, one by
//    one and all at once.
// 3. APK repository of an organization entitled to BENCH_PACKAGES (default
//    500) extra packages: APKINDEX.tar.gz cold (first request, with the
//    repository key's generation), the key generation alone, uncached rebuilds
//    (a second gateway with TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS=0),
//    cached (the default 30 s window), and package downloads.
// 4. REST: entitled packages (?q=), preview (add jq), builds list.
// 5. Authentication overhead on a cheap route (GET /api/v1/auth/whoami): API
//    key bearer (cached exchange) vs api token vs none.
// Sizes: BENCH_REQUESTS (default 200) requests per series, BENCH_CONCURRENCY
// (16), BENCH_REBUILDS (20) uncached index rebuilds, BENCH_BLOB_RUNS (3).
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { writePackage } from "@tailor/apk";
import type { Environment } from "@tailor/config";
import { grpcAddressVariable } from "@tailor/config";
import { builderV1, entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { createGatewayService } from "../src/index.js";
import type { TestPlatform } from "../test/support/platform.js";
import { startTestPlatform } from "../test/support/platform.js";

/** A positive integer knob from the environment. */
function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  }
  return value;
}

const REQUESTS = knob("BENCH_REQUESTS", 200);
const CONCURRENCY = knob("BENCH_CONCURRENCY", 16);
const BLOB_MB = knob("BENCH_BLOB_MB", 64);
const BLOB_RUNS = knob("BENCH_BLOB_RUNS", 3);
const PACKAGES = knob("BENCH_PACKAGES", 500);
const REBUILDS = knob("BENCH_REBUILDS", 20);

const MB = 1024 * 1024;
const ARCH = "x86_64";
const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
const ACCEPT_MANIFESTS = `${INDEX_TYPE}, ${MANIFEST_TYPE}`;
const { Audience, Role } = entitlementV1;
const { BuildStatus } = builderV1;

/** Latencies of one series of requests and its wall time. */
interface Series {
  readonly latencies: readonly number[];
  readonly wallMs: number;
}

/** An answer read to its end. */
interface Answer {
  readonly response: Response;
  readonly bytes: Uint8Array;
}

/** `Authorization: Basic …` of `user:password`. */
function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Runs `work` and measures it. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

/** Runs `count` requests, `concurrency` at a time, timing each. */
async function series(
  count: number,
  concurrency: number,
  request: (index: number) => Promise<unknown>,
): Promise<Series> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const start = performance.now();
      await request(index);
      latencies.push(performance.now() - start);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latencies, wallMs: performance.now() - start };
}

/** Requests sent, untimed, before each measured series (connections, JIT, caches). */
const WARMUP = 10;

/** Warms up with {@link WARMUP} sequential requests, then runs a {@link series}. */
async function measure(
  count: number,
  concurrency: number,
  request: (index: number) => Promise<unknown>,
): Promise<Series> {
  for (let i = 0; i < Math.min(WARMUP, count); i++) await request(i);
  return series(count, concurrency, request);
}

/** Calls `work` on each item, `concurrency` at a time. */
async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  await series(items.length, concurrency, (index) => work(items[index] as T));
}

/** The `q` quantile of `values` (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

const median = (s: Series) => quantile(s.latencies, 0.5);
const p95 = (s: Series) => quantile(s.latencies, 0.95);
const perSecond = (s: Series) => s.latencies.length / (s.wallMs / 1000);

function heading(title: string): void {
  console.log(`\n== ${title}`);
}

/** One printed figure: a label and its value. */
function line(label: string, value: string): void {
  console.log(`${label.padEnd(66)} ${value}`);
}

/** A series' median, p95 and throughput. */
function row(label: string, s: Series): void {
  line(
    label,
    `median ${median(s).toFixed(2).padStart(8)} ms   p95 ${p95(s).toFixed(2).padStart(8)} ms   ${perSecond(s).toFixed(0).padStart(6)} req/s`,
  );
}

/** A ratio `a / b` as `1.23x`. */
function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

describe("gateway benchmark", () => {
  let platform: TestPlatform;
  /** acme's small custom image (toolbox as bought), for manifests and previews. */
  const IMAGE = "bench";

  /** Sends a request, reads its body and fails naming the request unless it has `status`. */
  async function call(path: string, init: RequestInit = {}, status = 200): Promise<Answer> {
    const response = await fetch(`${platform.url}${path}`, init);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (response.status !== status) {
      const text = new TextDecoder().decode(bytes.subarray(0, 500));
      throw new Error(
        `${init.method ?? "GET"} ${path} answered ${response.status}, not ${status}: ${text}`,
      );
    }
    return { response, bytes };
  }

  /**
   * Sends a GET and counts its body's bytes as they arrive, keeping none (as a
   * client writing to disk would); fails naming the request unless it has `status`.
   */
  async function drain(
    path: string,
    headers: Record<string, string>,
    status = 200,
  ): Promise<number> {
    const response = await fetch(`${platform.url}${path}`, { headers });
    if (response.status !== status || response.body === null) {
      throw new Error(
        `GET ${path} answered ${response.status}, not ${status}: ${await response.text()}`,
      );
    }
    let received = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return received;
      received += value.byteLength;
    }
  }

  /** Waits until the resolver lists every one of `names` as entitled to acme. */
  async function entitledToAcme(names: readonly string[]): Promise<number> {
    return waitFor(
      async () => {
        const { packages } = await platform.resolver.entitledPackages(
          { orgId: platform.acmeId, arch: ARCH },
          platform.acme.viewer.call,
        );
        const listed = new Set(packages.map((pkg) => pkg.name));
        return names.every((name) => listed.has(name)) ? packages.length : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  }

  /** Grants `names` to acme. */
  async function grant(names: readonly string[]): Promise<void> {
    await inParallel(names, 8, (packageName) =>
      platform.entitlement.grantPackage(
        { orgId: platform.acmeId, packageName, reason: "benchmark" },
        platform.admin,
      ),
    );
  }

  /** Builds acme's custom image `name`; fails naming the build's failure. */
  async function build(name: string, packages: readonly string[]): Promise<builderV1.Build> {
    const built = await platform.buildImage(name, packages);
    if (built.status !== BuildStatus.SUCCEEDED) {
      throw new Error(
        `build of ${name} ended ${BuildStatus[built.status]}: ${built.failureReason} ${built.failureMessage}`,
      );
    }
    return built;
  }

  /** A `registry` token of `apiKey` from the gateway's token endpoint. */
  async function registryToken(apiKey: string, image: string): Promise<string> {
    const answer = await call(
      `/token?service=${platform.registryHost}&scope=repository:acme/${image}:pull`,
      { headers: { authorization: basic("bench", apiKey) } },
    );
    return (JSON.parse(new TextDecoder().decode(answer.bytes)) as { token: string }).token;
  }

  beforeAll(async () => {
    const started = await timed(() => startTestPlatform());
    platform = started.result;
    const built = await timed(() => build(IMAGE, []));
    console.log(
      `\nGateway benchmark: BENCH_REQUESTS=${REQUESTS} BENCH_CONCURRENCY=${CONCURRENCY} BENCH_BLOB_MB=${BLOB_MB} BENCH_PACKAGES=${PACKAGES} BENCH_REBUILDS=${REBUILDS} BENCH_BLOB_RUNS=${BLOB_RUNS}`,
    );
    line("setup: platform started (6 services + gateway)", `${started.ms.toFixed(0)} ms`);
    line(`setup: acme/${IMAGE} built`, `${built.ms.toFixed(0)} ms`);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it("1. registry: manifests by tag and digest, basic API key vs registry token, HEAD vs GET", async () => {
    heading(
      `1. Registry manifests of acme/${IMAGE}, ${REQUESTS} requests per series, concurrency 1 and ${CONCURRENCY}`,
    );
    // A member of its own, so the first request really exchanges the key.
    const puller = await platform.member(platform.acmeId, "bench-puller", Role.VIEWER);
    const byTag = `/v2/acme/${IMAGE}/manifests/latest`;
    const basicAuth = basic("bench", puller.apiKey);
    const first = await timed(() =>
      call(byTag, { headers: { authorization: basicAuth, accept: ACCEPT_MANIFESTS } }),
    );
    line(
      "GET manifest by tag, basic API key, first request (exchange)",
      `${first.ms.toFixed(2)} ms`,
    );
    const digest = first.result.response.headers.get("docker-content-digest") ?? "";
    const byDigest = `/v2/acme/${IMAGE}/manifests/${digest}`;
    const tokenAnswer = await timed(() => registryToken(puller.apiKey, IMAGE));
    line("GET /token, basic API key (cached exchange)", `${tokenAnswer.ms.toFixed(2)} ms`);
    const bearer = `Bearer ${tokenAnswer.result}`;

    const results = new Map<string, Series>();
    for (const [reference, path] of [
      ["tag", byTag],
      ["digest", byDigest],
    ] as const) {
      for (const [auth, authorization] of [
        ["basic API key (cached)", basicAuth],
        ["registry token bearer", bearer],
      ] as const) {
        for (const concurrency of [1, CONCURRENCY]) {
          const headers = { authorization, accept: ACCEPT_MANIFESTS };
          const s = await measure(REQUESTS, concurrency, () => call(path, { headers }));
          const label = `GET by ${reference}, ${auth}, c=${concurrency}`;
          results.set(label, s);
          row(label, s);
        }
      }
    }
    const heads = new Map<number, Series>();
    for (const concurrency of [1, CONCURRENCY]) {
      const headers = { authorization: bearer, accept: ACCEPT_MANIFESTS };
      const s = await measure(REQUESTS, concurrency, () =>
        call(byDigest, { method: "HEAD", headers }),
      );
      heads.set(concurrency, s);
      row(`HEAD by digest, registry token bearer, c=${concurrency}`, s);
    }
    const get = (label: string) => results.get(label) as Series;
    for (const concurrency of [1, CONCURRENCY]) {
      const viaBasic = get(`GET by tag, basic API key (cached), c=${concurrency}`);
      const viaToken = get(`GET by tag, registry token bearer, c=${concurrency}`);
      line(
        `ratio req/s token / basic API key, by tag, c=${concurrency}`,
        ratio(perSecond(viaToken), perSecond(viaBasic)),
      );
      const tagged = get(`GET by tag, registry token bearer, c=${concurrency}`);
      const digested = get(`GET by digest, registry token bearer, c=${concurrency}`);
      line(
        `ratio req/s by digest / by tag, token, c=${concurrency}`,
        ratio(perSecond(digested), perSecond(tagged)),
      );
      line(
        `ratio req/s HEAD / GET by digest, token, c=${concurrency}`,
        ratio(perSecond(heads.get(concurrency) as Series), perSecond(digested)),
      );
    }
    line(
      "ratio first request (exchange) / cached median, basic, by tag",
      ratio(first.ms, median(get("GET by tag, basic API key (cached), c=1"))),
    );
  });

  it("2. blob download: a big layer, and concurrent 1 MB ranges", async () => {
    heading(`2. Blob download of a layer with ${BLOB_MB} MB of random bytes`);
    const setup = await timed(async () => {
      const apk = await writePackage({
        pkginfo: {
          name: "bench-blob",
          version: "1.0-r0",
          arch: ARCH,
          description: "random bytes for the gateway benchmark",
          license: "MIT",
        },
        files: [
          {
            path: "usr/share/bench-blob/random.bin",
            type: "file",
            content: randomBytes(BLOB_MB * MB),
          },
        ],
        mtime: 1_700_000_000,
        signer: platform.packageKey.signer,
        gzipLevel: 1,
      });
      // Past gRPC's message limit: the package goes through the blob store.
      const stored = await platform.blobs.put(apk);
      await platform.catalog.publishPackage(
        { repository: "acme-tools", blobDigest: stored.digest },
        platform.admin,
      );
      await grant(["bench-blob"]);
      await entitledToAcme(["bench-blob"]);
      return build("bench-blob", ["bench-blob"]);
    });
    line("setup: package written, published, granted, image built", `${setup.ms.toFixed(0)} ms`);
    const token = await registryToken(platform.acme.viewer.apiKey, "bench-blob");
    const headers = { authorization: `Bearer ${token}` };
    const manifest = JSON.parse(
      new TextDecoder().decode(
        (
          await call(`/v2/acme/bench-blob/manifests/${setup.result.digests[`image/${ARCH}`]}`, {
            headers: { ...headers, accept: MANIFEST_TYPE },
          })
        ).bytes,
      ),
    ) as { layers: { digest: string; size: number }[] };
    const layer = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
    if (layer === undefined) throw new Error("the bench-blob image has no layers");
    const blobPath = `/v2/acme/bench-blob/blobs/${layer.digest}`;
    line("largest layer", `${(layer.size / MB).toFixed(1)} MB (${layer.digest.slice(0, 19)}…)`);

    const rates: number[] = [];
    for (let run = 1; run <= BLOB_RUNS; run++) {
      const before = process.memoryUsage.rss();
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 5);
      const start = performance.now();
      let received = 0;
      try {
        received = await drain(blobPath, headers);
      } finally {
        clearInterval(sampler);
      }
      const ms = performance.now() - start;
      peak = Math.max(peak, process.memoryUsage.rss());
      if (received !== layer.size) {
        throw new Error(`GET ${blobPath} sent ${received} bytes, the manifest says ${layer.size}`);
      }
      const rate = received / MB / (ms / 1000);
      rates.push(rate);
      line(
        `GET layer blob, run ${run}`,
        `${ms.toFixed(0)} ms   ${rate.toFixed(0)} MB/s   peak RSS +${((peak - before) / MB).toFixed(1)} MB (sampled every 5 ms)`,
      );
    }
    line("GET layer blob, median of runs", `${quantile(rates, 0.5).toFixed(0)} MB/s`);

    const ranges = 16;
    const step = Math.floor((layer.size - MB) / (ranges - 1));
    const rangeAt = async (index: number) => {
      const start = (index % ranges) * step;
      const received = await drain(
        blobPath,
        { ...headers, range: `bytes=${start}-${start + MB - 1}` },
        206,
      );
      if (received !== MB) {
        throw new Error(`Range of 1 MB at ${start} answered ${received} bytes`);
      }
    };
    const oneByOne = await measure(ranges, 1, rangeAt);
    row(`${ranges} sequential 1 MB Range requests`, oneByOne);
    const ranged = await series(ranges, ranges, rangeAt);
    row(`${ranges} concurrent 1 MB Range requests`, ranged);
    line(
      `${ranges} 1 MB Range requests, aggregate sequential / concurrent`,
      `${(ranges / (oneByOne.wallMs / 1000)).toFixed(0)} MB/s / ${(ranges / (ranged.wallMs / 1000)).toFixed(0)} MB/s (${ranged.wallMs.toFixed(0)} ms for all ${ranges})`,
    );
  });

  it("3. APK repository: APKINDEX cold, key generation, uncached, cached; package downloads", async () => {
    heading(`3. APK repository of acme with ${PACKAGES} extra entitled packages`);
    const names = Array.from(
      { length: PACKAGES },
      (_, i) => `bench-pkg-${String(i).padStart(4, "0")}`,
    );
    const setup = await timed(async () => {
      await inParallel(names, 8, (name) => platform.publish(name, "1.0-r0"));
      await grant(names);
      return entitledToAcme(names);
    });
    const entitled = setup.result;
    line(
      `setup: ${PACKAGES} packages published and granted (acme: ${entitled} packages)`,
      `${setup.ms.toFixed(0)} ms`,
    );
    const auth = { authorization: basic("apk", platform.acme.viewer.apiKey) };
    const indexPath = `/apk/acme/${ARCH}/APKINDEX.tar.gz`;
    const packagePath = `/apk/acme/${ARCH}/${names[0]}-1.0-r0.apk`;

    // The default gateway (30 s cache). The credential is exchanged first, so
    // the cold figure is key generation, index build and signing.
    await call("/apk/acme/apk-configuration", { headers: auth });
    const cold = await timed(() => call(indexPath, { headers: auth }));
    line(
      "APKINDEX cold: first request (key generation, build, sign)",
      `${cold.ms.toFixed(0)} ms   (${(cold.result.bytes.length / 1024).toFixed(0)} KB)`,
    );
    const cached = await measure(REQUESTS, 1, () => call(indexPath, { headers: auth }));
    row("APKINDEX cached (30 s window), c=1", cached);
    const cachedParallel = await measure(REQUESTS, CONCURRENCY, () =>
      call(indexPath, { headers: auth }),
    );
    row(`APKINDEX cached, c=${CONCURRENCY}`, cachedParallel);
    const etag = cold.result.response.headers.get("etag") ?? "";
    const notModified = await measure(REQUESTS, 1, () =>
      call(indexPath, { headers: { ...auth, "if-none-match": etag } }, 304),
    );
    row("APKINDEX cached, If-None-Match → 304, c=1", notModified);
    const downloads = await measure(REQUESTS, 1, () => call(packagePath, { headers: auth }));
    row("package download (index cached), c=1", downloads);

    // A second gateway of the same platform with TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS=0
    // and a database of its own, so acme has no repository key there yet.
    let nats: TestNats | undefined;
    let pg: TestDatabase | undefined;
    let uncached: TestService | undefined;
    try {
      nats = await createTestNats();
      pg = await createTestDatabase();
      const services: Environment = {
        [grpcAddressVariable("entitlement")]: platform.config.entitlementAddress,
        [grpcAddressVariable("catalog")]: platform.config.catalogAddress,
        [grpcAddressVariable("resolver")]: platform.config.resolverAddress,
        [grpcAddressVariable("builder")]: platform.config.builderAddress,
        [grpcAddressVariable("build-history")]: platform.config.buildHistoryAddress,
      };
      uncached = await startTestService(
        createGatewayService({
          environment: {
            // The administrator's key serves as this gateway's service identity.
            TAILOR_SERVICE_API_KEY: platform.adminKey,
            TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS: "0",
          },
          blobs: platform.blobs,
        }),
        { database: pg.database, nats, config: await testPlatformConfig(nats, services) },
      );
      const base = uncached.running.info.httpUrl ?? "";
      const on = async (path: string, init: RequestInit = {}, status = 200) => {
        const response = await fetch(`${base}${path}`, init);
        await response.arrayBuffer();
        if (response.status !== status) {
          throw new Error(`uncached gateway: ${path} answered ${response.status}, not ${status}`);
        }
      };
      await on("/apk/acme/apk-configuration", { headers: auth });
      const keygen = await timed(() => on("/apk/acme/jwks.json", { headers: auth }));
      const jwks = await measure(10, 1, () => on("/apk/acme/jwks.json", { headers: auth }));
      line(
        "repository key generation (first jwks.json − warm median)",
        `${(keygen.ms - median(jwks)).toFixed(0)} ms   (first ${keygen.ms.toFixed(0)} ms, warm ${median(jwks).toFixed(2)} ms)`,
      );
      const firstBuild = await timed(() => on(indexPath, { headers: auth }));
      line(
        "APKINDEX first build, key present (uncached gateway)",
        `${firstBuild.ms.toFixed(0)} ms`,
      );
      const rebuilds = await measure(REBUILDS, 1, () => on(indexPath, { headers: auth }));
      row("APKINDEX uncached rebuild (cache 0 s), c=1", rebuilds);
      const parallelRebuilds = await measure(REBUILDS, CONCURRENCY, () =>
        on(indexPath, { headers: auth }),
      );
      row(`APKINDEX uncached rebuild, c=${CONCURRENCY}`, parallelRebuilds);
      const uncachedDownloads = await measure(REBUILDS, 1, () =>
        on(packagePath, { headers: auth }),
      );
      row("package download (index rebuilt per request), c=1", uncachedDownloads);
      line("ratio median uncached rebuild / cached", ratio(median(rebuilds), median(cached)));
      line("ratio cold first request / cached median", ratio(cold.ms, median(cached)));
      line(
        "ratio median package download uncached / cached",
        ratio(median(uncachedDownloads), median(downloads)),
      );
    } finally {
      await uncached?.stop();
      await pg?.cleanup();
      await nats?.cleanup();
    }
  });

  it("4. REST: entitled packages, preview, builds list", async () => {
    heading(`4. REST API, ${REQUESTS} sequential calls each, API key bearer (cached exchange)`);
    const headers = { authorization: `Bearer ${platform.acme.editor.apiKey}` };
    const org = "/api/v1/organizations/acme";
    const cases: [string, string, RequestInit][] = [
      ["GET packages?q= (all, default limit)", `${org}/packages?q=`, { headers }],
      ["GET packages?q=jq", `${org}/packages?q=jq`, { headers }],
      [
        `POST custom-images/${IMAGE}/preview (add jq)`,
        `${org}/custom-images/${IMAGE}/preview`,
        {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ overlay: { packages: ["jq"] } }),
        },
      ],
      ["GET builds (last 24 h, first page)", `${org}/builds`, { headers }],
    ];
    for (const [label, path, init] of cases) {
      row(label, await measure(REQUESTS, 1, () => call(path, init)));
    }
  });

  it("5. authentication overhead on a cheap route", async () => {
    heading(
      `5. Authentication overhead: GET /api/v1/auth/whoami, ${REQUESTS} requests, concurrency 1 and ${CONCURRENCY}`,
    );
    const { token } = await platform.entitlement.issueToken({
      apiKey: platform.acme.viewer.apiKey,
      audience: Audience.API,
    });
    const whoami = "/api/v1/auth/whoami";
    const cases: [string, string, Record<string, string>, number][] = [
      [
        "API key bearer (cached exchange)",
        whoami,
        { authorization: `Bearer ${platform.acme.viewer.apiKey}` },
        200,
      ],
      ["api token bearer", whoami, { authorization: `Bearer ${token}` }, 200],
      ["no credentials (401)", whoami, {}, 401],
      ["GET / (console page, no authentication)", "/", {}, 200],
    ];
    for (const concurrency of [1, CONCURRENCY]) {
      const results: Series[] = [];
      for (const [label, path, headers, status] of cases) {
        const s = await measure(REQUESTS, concurrency, () => call(path, { headers }, status));
        results.push(s);
        row(`${label}, c=${concurrency}`, s);
      }
      const [apiKey, apiToken, none] = results as [Series, Series, Series];
      line(
        `ratio median API key / api token / none, c=${concurrency}`,
        `${ratio(median(apiKey), median(none))} / ${ratio(median(apiToken), median(none))} / 1.00x`,
      );
      line(
        `ratio req/s api token / API key, c=${concurrency}`,
        ratio(perSecond(apiToken), perSecond(apiKey)),
      );
    }
  });
});
