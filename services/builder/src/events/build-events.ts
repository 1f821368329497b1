import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { events } from "@tailor/bus";
import type { Kysely, Transaction } from "@tailor/db";
import { enqueueEvent, enqueueEvents } from "@tailor/outbox";
import type { Build } from "../builds/build.js";
import type { BuilderDatabase } from "../store/builder-database.js";

type Db = Kysely<BuilderDatabase> | Transaction<BuilderDatabase>;

/** One line of a build's log. */
export interface BuildLogLine {
  seq: number;
  time: Date;
  level: "info" | "warn" | "error";
  step: string;
  text: string;
}

/**
 * tailor.build.queued and the job on the work queue (msgID = build id), in
 * the transaction that stored the build.
 */
export async function enqueueBuildQueued(db: Db, build: Build): Promise<void> {
  await enqueueEvent(
    db,
    events.buildQueued,
    {
      buildId: build.id,
      orgId: build.orgId,
      customImage: build.customImage,
      revision: build.revision,
      trigger: build.trigger,
      occurredAt: timestampFromDate(build.createdAt),
    },
    `${build.id}:queued`,
  );
  await enqueueEvent(
    db,
    events.buildJob,
    {
      buildId: build.id,
      orgId: build.orgId,
      customImage: build.customImage,
      revision: build.revision,
      trigger: build.trigger,
    },
    build.id,
  );
}

/** tailor.build.started, once per attempt. */
export async function enqueueBuildStarted(
  db: Db,
  build: Build,
  worker: string,
  now: Date,
): Promise<void> {
  await enqueueEvent(
    db,
    events.buildStarted,
    { buildId: build.id, orgId: build.orgId, worker, occurredAt: timestampFromDate(now) },
    `${build.id}:started:${build.attempts}`,
  );
}

/** tailor.build.log lines (msgID per sequence number). */
export async function enqueueBuildLogLines(
  db: Db,
  build: Pick<Build, "id" | "orgId">,
  lines: readonly BuildLogLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await enqueueEvents(
    db,
    events.buildLog,
    lines.map((line) => ({
      msgID: `${build.id}:log:${line.seq}`,
      message: {
        buildId: build.id,
        orgId: build.orgId,
        seq: BigInt(line.seq),
        time: timestampFromDate(line.time),
        level: line.level,
        step: line.step,
        text: line.text,
      },
    })),
  );
}

/** tailor.build.succeeded (also for an up-to-date build, flagged). */
export async function enqueueBuildSucceeded(
  db: Db,
  build: Build,
  upToDate: boolean,
): Promise<void> {
  const finishedAt = build.finishedAt ?? new Date();
  const startedAt = build.startedAt ?? finishedAt;
  await enqueueEvent(
    db,
    events.buildSucceeded,
    {
      buildId: build.id,
      orgId: build.orgId,
      digests: build.digests,
      tags: build.tags,
      durationMs: BigInt(Math.max(0, finishedAt.getTime() - startedAt.getTime())),
      occurredAt: timestampFromDate(finishedAt),
      upToDate,
      version: build.lockedConfig?.sourceImageVersion ?? "",
    },
    `${build.id}:succeeded`,
  );
}

/** tailor.build.failed with the reason code and message. */
export async function enqueueBuildFailed(db: Db, build: Build): Promise<void> {
  await enqueueEvent(
    db,
    events.buildFailed,
    {
      buildId: build.id,
      orgId: build.orgId,
      reason: build.failureReason,
      message: build.failureMessage,
      occurredAt: timestampFromDate(build.finishedAt ?? new Date()),
    },
    `${build.id}:failed`,
  );
}

/** tailor.build.cancelled. */
export async function enqueueBuildCancelled(db: Db, build: Build): Promise<void> {
  await enqueueEvent(
    db,
    events.buildCancelled,
    {
      buildId: build.id,
      orgId: build.orgId,
      occurredAt: timestampFromDate(build.finishedAt ?? new Date()),
    },
    `${build.id}:cancelled`,
  );
}
