// Benchmark of the build-history service (npm run bench; build first): figures
// are printed, not asserted. Real Postgres (127.0.0.1:5432) and NATS
// (127.0.0.1:4222), the service over gRPC on localhost.
// 1. ListBuilds, default 24 h window, one image with BENCH_BUILDS builds
//    (default 10k, spread over 7 days) among as many builds of other images:
//    the first page (50), and every page of the window.
// 2. GetBuildLog of a build with BENCH_LINES lines (default 100k): every page
//    at 1000 and at 10000 lines per page.
// 3. Ingest: BENCH_INGEST log lines (default 10k) published on the bus until
//    all are stored.
// Seeding of 1 and 2 writes the tables directly and is not timed.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  authorizationMetadata,
  createTokenSigner,
  generateSigningKey,
  staticKeySource,
} from "@tailor/auth";
import { connectBus, events } from "@tailor/bus";
import { createGrpcClient } from "@tailor/grpc";
import { historyV1 } from "@tailor/proto";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { createBuildHistoryService } from "../dist/index.js";

const BUILDS = Number(process.env.BENCH_BUILDS ?? 10_000);
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const INGEST = Number(process.env.BENCH_INGEST ?? 10_000);
const HOUR = 3_600_000;
const logger = testLogger();

function figure(label, ms, extra = "") {
  console.log(`${label.padEnd(58)} ${ms.toFixed(1).padStart(9)} ms ${extra}`);
}

async function timed(fn) {
  const start = performance.now();
  const result = await fn();
  return [performance.now() - start, result];
}

async function chunks(rows, size, insert) {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

const nats = await createTestNats();
const pg = await createTestDatabase({ logger });
const config = await testPlatformConfig(nats);
const key = generateSigningKey();
const orgId = randomUUID();
const token = createTokenSigner(key).sign(
  {
    subject: randomUUID(),
    subjectName: "bench",
    orgId,
    orgName: "bench",
    role: "viewer",
    administrator: false,
  },
  "api",
  3600,
).token;
const auth = { metadata: authorizationMetadata(token), deadlineMs: 120_000 };
const service = await startTestService(
  createBuildHistoryService({ environment: {}, tokenKeys: staticKeySource([key]) }),
  { database: pg.database, nats, config, logger },
);
const db = pg.database.forSchema("build_history");
const history = createGrpcClient(historyV1.BuildHistoryService, {
  address: config.buildHistoryAddress,
});
const bus = await connectBus({
  servers: nats.url,
  name: "build-history-bench",
  logger,
  namespace: nats.namespace,
});

try {
  // 1. Builds.
  const now = Date.now();
  const row = (customImage, createdAt) => ({
    id: randomUUID(),
    org_id: orgId,
    custom_image: customImage,
    revision: 1,
    trigger: "manual",
    version: "",
    status: "succeeded",
    digests: JSON.stringify({ "runtime/x86_64": `sha256:${"0".repeat(64)}` }),
    tags: JSON.stringify(["latest"]),
    created_at: createdAt,
    queued_at: createdAt,
    started_at: createdAt,
    completed_at: new Date(createdAt.getTime() + 60_000),
    duration_ms: 60_000,
    worker: "w",
    failure_code: "",
    failure_message: "",
    up_to_date: false,
  });
  const builds = [];
  for (let i = 0; i < BUILDS; i++) {
    const at = new Date(now - Math.floor((i / BUILDS) * 7 * 24 * HOUR) - 1000);
    builds.push(row("python", at), row(`other-${i % 20}`, at));
  }
  await chunks(builds, 2_000, (rows) => db.insertInto("builds").values(rows).execute());
  const request = { orgId, customImage: "python", page: { size: 50 } };
  await history.listBuilds(request, auth); // warm-up
  const firstPages = [];
  for (let i = 0; i < 20; i++)
    firstPages.push((await timed(() => history.listBuilds(request, auth)))[0]);
  firstPages.sort((a, b) => a - b);
  figure(`ListBuilds 24 h, first page of 50 (image with ${BUILDS} builds), median`, firstPages[10]);
  const [allMs, count] = await timed(async () => {
    let n = 0;
    let pageToken = "";
    do {
      const r = await history.listBuilds(
        { ...request, page: { size: 500, token: pageToken } },
        auth,
      );
      n += r.builds.length;
      pageToken = r.page?.nextToken ?? "";
    } while (pageToken !== "");
    return n;
  });
  figure("ListBuilds 24 h, every page of 500", allMs, `(${count} builds)`);

  // 2. A long log.
  const buildId = randomUUID();
  await db
    .insertInto("builds")
    .values({ ...row("python", new Date()), id: buildId })
    .execute();
  const lines = [];
  for (let seq = 1; seq <= LINES; seq++) {
    lines.push({
      build_id: buildId,
      seq,
      time: new Date(now + seq),
      level: "info",
      step: "assemble",
      text: `line ${seq}: writing layer ${seq % 97} of the image, a typical line of build output`,
    });
  }
  await chunks(lines, 5_000, (rows) => db.insertInto("build_log_lines").values(rows).execute());
  for (const size of [1_000, 10_000]) {
    const [ms, pages] = await timed(async () => {
      let n = 0;
      let pageToken = "";
      do {
        const r = await history.getBuildLog(
          { id: buildId, page: { size, token: pageToken } },
          auth,
        );
        n++;
        pageToken = r.page?.nextToken ?? "";
      } while (pageToken !== "");
      return n;
    });
    figure(
      `GetBuildLog ${LINES} lines, pages of ${size}`,
      ms,
      `(${pages} pages, ${(ms / pages).toFixed(2)} ms/page)`,
    );
  }

  // 3. Ingest through the bus.
  const ingestId = randomUUID();
  const [ingestMs] = await timed(async () => {
    for (let seq = 1; seq <= INGEST; seq++) {
      await bus.publish(
        events.buildLog,
        {
          buildId: ingestId,
          orgId,
          seq: BigInt(seq),
          level: "info",
          step: "assemble",
          text: `line ${seq}`,
        },
        { msgID: `${ingestId}:${seq}` },
      );
    }
    await waitFor(
      async () => {
        const r = await db
          .selectFrom("build_log_lines")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("build_id", "=", ingestId)
          .executeTakeFirstOrThrow();
        return Number(r.n) === INGEST ? true : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 100 },
    );
  });
  figure(
    `Ingest ${INGEST} log lines (publish → stored)`,
    ingestMs,
    `(${Math.round(INGEST / (ingestMs / 1000))} lines/s)`,
  );
} finally {
  history.close();
  await bus.close();
  await service.stop();
  await pg.cleanup();
  await nats.cleanup();
}
