// The build-history service on real Postgres and NATS: build events published
// on the bus become build records, logs, versions and tag moves, read back over
// gRPC with the org scoping of "api" tokens.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Role } from "@tailor/auth";
import {
  authorizationMetadata,
  createTokenSigner,
  generateSigningKey,
  staticKeySource,
} from "@tailor/auth";
import type { Bus } from "@tailor/bus";
import { connectBus, events } from "@tailor/bus";
import type { CallOptions, Client } from "@tailor/grpc";
import { Code, createGrpcClient } from "@tailor/grpc";
import { historyV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuildHistoryService } from "../src/index.js";
import type { HistoryDatabase } from "../src/store/history.table.js";

const logger = testLogger();
const { BuildStatus } = historyV1;
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const ORG_A = randomUUID();
const ORG_B = randomUUID();

describe("build history", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let service: TestService;
  let bus: Bus;
  let history: Client<typeof historyV1.BuildHistoryService> & { close(): void };
  let viewerA: CallOptions;
  let viewerB: CallOptions;
  let admin: CallOptions;
  /** Shifts the service's clock (the pruner's cutoff and the 24 h window). */
  let clockOffsetMs = 0;
  let published = 0;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    const config = await testPlatformConfig(nats);
    const key = generateSigningKey();
    const signer = createTokenSigner(key);
    const as = (orgId: string, role: Role): CallOptions => ({
      metadata: authorizationMetadata(
        signer.sign(
          {
            subject: randomUUID(),
            subjectName: `${role}@${orgId}`,
            orgId,
            orgName: "org",
            role,
            administrator: false,
          },
          "api",
          600,
        ).token,
      ),
    });
    viewerA = as(ORG_A, "viewer");
    viewerB = as(ORG_B, "owner");
    admin = {
      metadata: authorizationMetadata(
        signer.sign({ subject: randomUUID(), subjectName: "root", administrator: true }, "api", 600)
          .token,
      ),
    };
    service = await startTestService(
      createBuildHistoryService({
        environment: {},
        tokenKeys: staticKeySource([key]),
        now: () => new Date(Date.now() + clockOffsetMs),
        pruneIntervalMs: 200,
      }),
      { database: pg.database, nats, config, logger },
    );
    bus = await connectBus({
      servers: nats.url,
      name: "build-history-test",
      logger,
      namespace: nats.namespace,
    });
    await bus.provision();
    history = createGrpcClient(historyV1.BuildHistoryService, {
      address: config.buildHistoryAddress,
    });
  });

  afterAll(async () => {
    history?.close();
    await bus?.close();
    await service?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
  });

  // Every publish gets its own msgID, so a deliberate duplicate reaches the consumer.
  const id = () => `m${++published}`;
  const ts = (date: Date) => timestampFromDate(date);
  const queued = (buildId: string, at: Date, customImage = "python", orgId = ORG_A) =>
    bus.publish(
      events.buildQueued,
      { buildId, orgId, customImage, revision: 3, trigger: "manual", occurredAt: ts(at) },
      { msgID: id() },
    );
  const started = (buildId: string, at: Date, worker = "worker-1") =>
    bus.publish(
      events.buildStarted,
      { buildId, orgId: ORG_A, worker, occurredAt: ts(at) },
      { msgID: id() },
    );
  const succeeded = (buildId: string, at: Date, tags = ["3.12", "latest"]) =>
    bus.publish(
      events.buildSucceeded,
      {
        buildId,
        orgId: ORG_A,
        digests: {
          "runtime/x86_64": `sha256:${buildId.replace(/-/g, "").padEnd(64, "0").slice(0, 64)}`,
        },
        tags,
        durationMs: 4_000n,
        occurredAt: ts(at),
        version: "3.12.7-r1",
      },
      { msgID: id() },
    );
  const failed = (buildId: string, at: Date) =>
    bus.publish(
      events.buildFailed,
      {
        buildId,
        orgId: ORG_A,
        reason: "resolve_failed",
        message: "no package zlib",
        occurredAt: ts(at),
      },
      { msgID: id() },
    );
  const logLine = (buildId: string, seq: number, text = `line ${seq}`) =>
    bus.publish(
      events.buildLog,
      {
        buildId,
        orgId: ORG_A,
        seq: BigInt(seq),
        time: ts(new Date()),
        level: "info",
        step: "assemble",
        text,
      },
      { msgID: id() },
    );
  const buildOf = (buildId: string, options: CallOptions = viewerA) =>
    history.getBuild({ id: buildId }, options).then((r) => r.build);
  const buildWhen = (buildId: string, ready: (b: historyV1.Build) => boolean) =>
    waitFor(async () => {
      const build = await buildOf(buildId).catch(() => undefined);
      return build !== undefined && ready(build) ? build : undefined;
    });

  it("walks a build through queued, running and succeeded, with its versions and tag moves", async () => {
    const buildId = randomUUID();
    const t0 = new Date(Date.now() - 10_000);
    await queued(buildId, t0);
    const q = await buildWhen(buildId, (b) => b.status === BuildStatus.QUEUED);
    expect(q).toMatchObject({
      orgId: ORG_A,
      customImage: "python",
      revision: 3,
      trigger: "manual",
      version: "",
    });

    await started(buildId, new Date(t0.getTime() + 1_000));
    const r = await buildWhen(buildId, (b) => b.status === BuildStatus.RUNNING);
    expect(r.worker).toBe("worker-1");

    await succeeded(buildId, new Date(t0.getTime() + 5_000));
    const s = await buildWhen(buildId, (b) => b.status === BuildStatus.SUCCEEDED);
    expect(s.tags).toEqual(["3.12", "latest"]);
    expect(s.version).toBe("3.12.7-r1");
    expect(Object.keys(s.digests)).toEqual(["runtime/x86_64"]);
    expect(s.durationMs).toBe(4_000n);
    expect(s.completedAt && timestampDate(s.completedAt).getTime()).toBe(t0.getTime() + 5_000);

    const versions = await history.listVersions({ orgId: ORG_A, customImage: "python" }, viewerA);
    expect(versions.versions.map((v) => [v.tag, v.buildId]).sort()).toEqual([
      ["3.12", buildId],
      ["latest", buildId],
    ]);

    // A second build moves "latest" only.
    const next = randomUUID();
    await queued(next, new Date(t0.getTime() + 6_000));
    await succeeded(next, new Date(t0.getTime() + 9_000), ["latest"]);
    await buildWhen(next, (b) => b.status === BuildStatus.SUCCEEDED);
    const moves = await waitFor(async () => {
      const h = await history.tagHistory(
        { orgId: ORG_A, customImage: "python", tag: "latest" },
        viewerA,
      );
      return h.moves.length === 2 ? h.moves : undefined;
    });
    expect(moves.map((m) => m.buildId)).toEqual([next, buildId]);
    const after = await history.listVersions({ orgId: ORG_A, customImage: "python" }, viewerA);
    expect(Object.fromEntries(after.versions.map((v) => [v.tag, v.buildId]))).toEqual({
      "3.12": buildId,
      latest: next,
    });
  });

  it("gives the same record for duplicated and reordered events; a build never moves backwards", async () => {
    const inOrder = randomUUID();
    const shuffled = randomUUID();
    const t0 = new Date(Date.now() - 60_000);
    const q = new Date(t0.getTime());
    const st = new Date(t0.getTime() + 1_000);
    const end = new Date(t0.getTime() + 5_000);
    await queued(inOrder, q, "node");
    await started(inOrder, st);
    await succeeded(inOrder, end, []);
    // Reversed, with every event twice.
    for (let i = 0; i < 2; i++) {
      await succeeded(shuffled, end, []);
      await started(shuffled, st);
      await queued(shuffled, q, "node");
    }
    const complete = (b: historyV1.Build) =>
      b.status === BuildStatus.SUCCEEDED &&
      b.worker !== "" &&
      b.customImage !== "" &&
      b.queuedAt !== undefined;
    const a = await buildWhen(inOrder, complete);
    const b = await buildWhen(shuffled, complete);
    const strip = (build: historyV1.Build) => ({ ...build, id: "", digests: {} });
    expect(strip(b)).toEqual(strip(a));

    // Late events of a finished build change nothing.
    await failed(shuffled, new Date(end.getTime() + 1_000));
    await started(shuffled, new Date(end.getTime() + 2_000), "worker-2");
    await queued(shuffled, q, "node");
    const sentinel = randomUUID();
    await queued(sentinel, new Date());
    await buildWhen(sentinel, () => true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await buildOf(shuffled)).toEqual(b);
    expect(b).toMatchObject({ status: BuildStatus.SUCCEEDED, worker: "worker-1", failureCode: "" });
  });

  it("tails a live log: stored lines, then live ones, ending when the build ends", async () => {
    const buildId = randomUUID();
    await queued(buildId, new Date());
    await started(buildId, new Date());
    for (let seq = 1; seq <= 3; seq++) await logLine(buildId, seq);
    await waitFor(async () => {
      const log = await history.getBuildLog({ id: buildId }, viewerA);
      return log.lines.length === 3 ? log : undefined;
    });

    const received: string[] = [];
    const tail = (async () => {
      for await (const response of history.tailBuildLog(
        { id: buildId },
        { ...viewerA, deadlineMs: 20_000 },
      )) {
        received.push(response.line?.text ?? "");
      }
    })();
    await waitFor(() => (received.length === 3 ? true : undefined));
    await logLine(buildId, 4);
    await logLine(buildId, 5);
    await waitFor(() => (received.length === 5 ? true : undefined));
    await failed(buildId, new Date());
    await tail; // the stream ends once the build has ended
    expect(received).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);

    // A duplicated line is stored once; pages follow seq.
    await logLine(buildId, 2, "line 2 again");
    const page1 = await history.getBuildLog({ id: buildId, page: { size: 2 } }, viewerA);
    expect(page1.lines.map((l) => l.seq)).toEqual([1n, 2n]);
    expect(page1.lines[1]?.text).toBe("line 2");
    const page2 = await history.getBuildLog(
      { id: buildId, page: { size: 10, token: page1.page?.nextToken ?? "" } },
      viewerA,
    );
    expect(page2.lines.map((l) => l.seq)).toEqual([3n, 4n, 5n]);
  });

  /** Seqs of a build's lines as stored right now (read from the service's own tables). */
  const storedSeqs = async (buildId: string) =>
    (
      await pg.database
        .forSchema<HistoryDatabase>("build_history")
        .selectFrom("build_log_lines")
        .select("seq")
        .where("build_id", "=", buildId)
        .orderBy("seq")
        .execute()
    ).map((row) => Number(row.seq));
  /** Follows TailBuildLog to its end; `seqs` grows as lines arrive. */
  const follow = (buildId: string) => {
    const seqs: number[] = [];
    const done = (async () => {
      for await (const response of history.tailBuildLog(
        { id: buildId },
        { ...viewerA, deadlineMs: 25_000 },
      )) {
        seqs.push(Number(response.line?.seq ?? 0));
      }
      return seqs;
    })();
    // A test failing before it awaits `done` must not leave an unhandled rejection behind.
    done.catch(() => undefined);
    return { seqs, done };
  };
  /** Every page of GetBuildLog from the first, following the page tokens. */
  const allPages = async (buildId: string, size: number) => {
    const seqs: number[] = [];
    let token = "";
    do {
      const page = await history.getBuildLog({ id: buildId, page: { size, token } }, viewerA);
      seqs.push(...page.lines.map((line) => Number(line.seq)));
      token = page.page?.nextToken ?? "";
    } while (token !== "");
    return seqs;
  };
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("tails every line once, in seq order, when lines are stored out of order", async () => {
    const buildId = randomUUID();
    await queued(buildId, new Date());
    await started(buildId, new Date());
    for (let seq = 1; seq <= 3; seq++) await logLine(buildId, seq);
    await waitFor(async () => ((await storedSeqs(buildId)).length === 3 ? true : undefined));
    const tail = follow(buildId);
    await waitFor(() => (tail.seqs.length === 3 ? true : undefined));

    // Line 4 is delayed: 6 and 5 are stored first.
    await logLine(buildId, 6);
    await logLine(buildId, 5);
    await waitFor(async () => {
      const stored = await storedSeqs(buildId);
      return stored.includes(5) && stored.includes(6) ? true : undefined;
    });
    // Let the tail read 5 and 6 while 4 is missing (it re-reads on every stored line and every second).
    await sleep(1_500);
    // A reader paging the log meanwhile stops before the missing line instead of skipping it.
    expect(await allPages(buildId, 2)).toEqual([1, 2, 3]);

    await logLine(buildId, 4);
    // A burst of lines published at once, in shuffled order: the recorder stores them concurrently.
    const burst = range(7, 120).sort(() => Math.random() - 0.5);
    await Promise.all(burst.map((seq) => logLine(buildId, seq)));
    await failed(buildId, new Date());
    expect(await tail.done).toEqual(range(1, 120));
    expect(await allPages(buildId, 7)).toEqual(range(1, 120));
  });

  it("does not hold a tail back for ever on a line that never arrives", async () => {
    const buildId = randomUUID();
    await queued(buildId, new Date());
    await started(buildId, new Date());
    // Line 3 is never published.
    for (const seq of [1, 2, 4, 5]) await logLine(buildId, seq);
    await waitFor(async () => ((await storedSeqs(buildId)).length === 4 ? true : undefined));
    const tail = follow(buildId);
    await waitFor(() => (tail.seqs.length >= 2 ? true : undefined));
    await failed(buildId, new Date());
    expect(await tail.done).toEqual([1, 2, 4, 5]);
    expect(await allPages(buildId, 3)).toEqual([1, 2, 4, 5]);
  });

  it("lists the last 24 hours by default, newest first, and older builds with an explicit since", async () => {
    const image = `window-${randomUUID().slice(0, 8)}`;
    const recent = randomUUID();
    const older = randomUUID();
    const newest = randomUUID();
    await queued(older, new Date(Date.now() - 30 * HOUR), image);
    await queued(recent, new Date(Date.now() - 2 * HOUR), image);
    await queued(newest, new Date(Date.now() - HOUR), image);
    await started(newest, new Date());
    await Promise.all([older, recent].map((b) => buildWhen(b, () => true)));
    await buildWhen(newest, (b) => b.status === BuildStatus.RUNNING);

    const ids = async (request: Partial<historyV1.ListBuildsRequest>) =>
      (
        await history.listBuilds({ orgId: ORG_A, customImage: image, ...request }, viewerA)
      ).builds.map((b) => b.id);
    expect(await ids({})).toEqual([newest, recent]);
    expect(await ids({ since: ts(new Date(Date.now() - 48 * HOUR)) })).toEqual([
      newest,
      recent,
      older,
    ]);
    expect(await ids({ status: BuildStatus.QUEUED })).toEqual([recent]);

    const first = await history.listBuilds(
      {
        orgId: ORG_A,
        customImage: image,
        since: ts(new Date(Date.now() - 48 * HOUR)),
        page: { size: 2 },
      },
      viewerA,
    );
    const rest = await history.listBuilds(
      {
        orgId: ORG_A,
        customImage: image,
        since: ts(new Date(Date.now() - 48 * HOUR)),
        page: { size: 2, token: first.page?.nextToken ?? "" },
      },
      viewerA,
    );
    expect([...first.builds, ...rest.builds].map((b) => b.id)).toEqual([newest, recent, older]);
  });

  it("prunes records and logs older than the retention only", async () => {
    const old = randomUUID();
    const young = randomUUID();
    // With the clock 20 days behind, a 100-day-old build is within the 90 days.
    clockOffsetMs = -20 * DAY;
    try {
      await queued(old, new Date(Date.now() - 100 * DAY), "pruned");
      await queued(young, new Date(Date.now() - 80 * DAY), "pruned");
      await logLine(old, 1);
      await logLine(young, 1);
      await buildWhen(old, () => true);
      await buildWhen(young, () => true);
      await waitFor(async () => {
        const logs = await Promise.all(
          [old, young].map((b) => history.getBuildLog({ id: b }, viewerA)),
        );
        return logs.every((l) => l.lines.length === 1) ? true : undefined;
      });
    } finally {
      clockOffsetMs = 0;
    }
    await waitFor(async () => {
      const gone = await buildOf(old).then(
        () => false,
        (error: { code?: Code }) => error.code === Code.NOT_FOUND,
      );
      return gone ? true : undefined;
    });
    expect((await buildOf(young))?.id).toBe(young);
    expect((await history.getBuildLog({ id: young }, viewerA)).lines).toHaveLength(1);
  });

  it("shows another organization nothing", async () => {
    const buildId = randomUUID();
    await queued(buildId, new Date(), "secret");
    await logLine(buildId, 1);
    await buildWhen(buildId, () => true);
    const notFound = { code: Code.NOT_FOUND };
    await expect(history.getBuild({ id: buildId }, viewerB)).rejects.toMatchObject(notFound);
    await expect(history.getBuildLog({ id: buildId }, viewerB)).rejects.toMatchObject(notFound);
    await expect(
      (async () => {
        for await (const _ of history.tailBuildLog({ id: buildId }, viewerB)) {
          // never reached
        }
      })(),
    ).rejects.toMatchObject(notFound);
    await expect(history.listBuilds({ orgId: ORG_A }, viewerB)).rejects.toMatchObject(notFound);
    await expect(
      history.listVersions({ orgId: ORG_A, customImage: "python" }, viewerB),
    ).rejects.toMatchObject(notFound);
    await expect(
      history.tagHistory({ orgId: ORG_A, customImage: "python", tag: "latest" }, viewerB),
    ).rejects.toMatchObject(notFound);
    expect((await history.listBuilds({ orgId: ORG_B }, viewerB)).builds).toEqual([]);
    expect((await buildOf(buildId, admin))?.id).toBe(buildId);
    await expect(history.getBuild({ id: buildId })).rejects.toMatchObject({
      code: Code.UNAUTHENTICATED,
    });
  });
});
