import type { Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import type { BuildRecord, BuildStatus, LogLineRecord } from "../builds/build-record.js";
import type { StoredLogLine } from "../builds/log-sequence.js";
import type { BuildEvent } from "../builds/merge-build-event.js";
import { mergeBuildEvent } from "../builds/merge-build-event.js";
import type { BuildRow, HistoryDatabase, LogLineRow, TagMoveRow } from "./history.table.js";

type Db = Kysely<HistoryDatabase> | Transaction<HistoryDatabase>;

/** The one mapping of a `builds` row to the domain. */
export function toBuildRecord(row: BuildRow): BuildRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    customImage: row.custom_image,
    revision: row.revision,
    trigger: row.trigger,
    version: row.version,
    status: row.status as BuildStatus,
    digests: row.digests,
    tags: row.tags,
    createdAt: row.created_at,
    queuedAt: row.queued_at ?? undefined,
    startedAt: row.started_at ?? undefined,
    completedAt: row.completed_at ?? undefined,
    durationMs: Number(row.duration_ms),
    worker: row.worker,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
    upToDate: row.up_to_date,
  };
}

function toStoredLogLine(row: LogLineRow & { stored_for_ms: number }): StoredLogLine {
  return {
    buildId: row.build_id,
    seq: Number(row.seq),
    time: row.time,
    level: row.level,
    step: row.step,
    text: row.text,
    storedForMs: Number(row.stored_for_ms),
  };
}

function buildColumns(build: BuildRecord) {
  return {
    org_id: build.orgId,
    custom_image: build.customImage,
    revision: build.revision,
    trigger: build.trigger,
    version: build.version,
    status: build.status,
    digests: JSON.stringify(build.digests),
    tags: JSON.stringify(build.tags),
    created_at: build.createdAt,
    queued_at: build.queuedAt ?? null,
    started_at: build.startedAt ?? null,
    completed_at: build.completedAt ?? null,
    duration_ms: build.durationMs,
    worker: build.worker,
    failure_code: build.failureCode,
    failure_message: build.failureMessage,
    up_to_date: build.upToDate,
  };
}

/**
 * Applies one build event under a row lock (see {@link mergeBuildEvent}) and
 * records the tag moves of a successful build once its image is known.
 * Idempotent. Returns the build as stored.
 */
export async function applyBuildEvent(
  db: Kysely<HistoryDatabase>,
  event: BuildEvent,
): Promise<BuildRecord> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("builds")
      .selectAll()
      .where("id", "=", event.buildId)
      .forUpdate()
      .executeTakeFirst();
    const current = row === undefined ? undefined : toBuildRecord(row);
    const merged = mergeBuildEvent(current, event);
    if (current === undefined) {
      const inserted = await trx
        .insertInto("builds")
        .values({ id: merged.id, ...buildColumns(merged) })
        .onConflict((oc) => oc.column("id").doNothing())
        .executeTakeFirst();
      // Another delivery inserted it first: merge into that row instead.
      if (inserted.numInsertedOrUpdatedRows === 0n) {
        throw new ConcurrentInsertError(event.buildId);
      }
    } else {
      await trx
        .updateTable("builds")
        .set(buildColumns(merged))
        .where("id", "=", merged.id)
        .execute();
    }
    if (merged.status === "succeeded" && !merged.upToDate && merged.customImage !== "") {
      await recordTagMoves(trx, merged);
    }
    return merged;
  });
}

/** Two deliveries of one new build raced; applying the event again succeeds. */
export class ConcurrentInsertError extends Error {
  constructor(readonly buildId: string) {
    super(`build "${buildId}" was inserted concurrently; retry`);
    this.name = "ConcurrentInsertError";
  }
}

async function recordTagMoves(trx: Db, build: BuildRecord): Promise<void> {
  if (build.tags.length === 0) return;
  await trx
    .insertInto("tag_moves")
    .values(
      build.tags.map((tag) => ({
        org_id: build.orgId,
        custom_image: build.customImage,
        tag,
        build_id: build.id,
        digests: JSON.stringify(build.digests),
        moved_at: build.completedAt ?? build.createdAt,
      })),
    )
    .onConflict((oc) => oc.columns(["build_id", "tag"]).doNothing())
    .execute();
}

/** Stores log lines; a line already stored (same build and seq) is left as it is. */
export async function insertLogLines(db: Db, lines: readonly LogLineRecord[]): Promise<void> {
  if (lines.length === 0) return;
  await db
    .insertInto("build_log_lines")
    .values(
      lines.map((line) => ({
        build_id: line.buildId,
        seq: line.seq,
        time: line.time,
        level: line.level,
        step: line.step,
        text: line.text,
      })),
    )
    .onConflict((oc) => oc.columns(["build_id", "seq"]).doNothing())
    .execute();
}

/** One build, or undefined. */
export async function findBuild(db: Db, id: string): Promise<BuildRecord | undefined> {
  const row = await db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toBuildRecord(row);
}

/** Selection of {@link listBuilds}. */
export interface BuildQuery {
  readonly orgId: string;
  readonly customImage: string | undefined;
  readonly since: Date;
  readonly status: BuildStatus | undefined;
  /** Keyset: only builds strictly older than this (created_at, id). */
  readonly before: { readonly createdAt: Date; readonly id: string } | undefined;
  readonly limit: number;
}

/** Builds of an organization created at or after `since`, newest first. */
export async function listBuilds(db: Db, query: BuildQuery): Promise<BuildRecord[]> {
  let select = db
    .selectFrom("builds")
    .selectAll()
    .where("org_id", "=", query.orgId)
    .where("created_at", ">=", query.since);
  if (query.customImage !== undefined)
    select = select.where("custom_image", "=", query.customImage);
  if (query.status !== undefined) select = select.where("status", "=", query.status);
  const before = query.before;
  if (before !== undefined) {
    select = select.where((eb) =>
      eb.or([
        eb("created_at", "<", before.createdAt),
        eb.and([eb("created_at", "=", before.createdAt), eb("id", "<", before.id)]),
      ]),
    );
  }
  const rows = await select
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(query.limit)
    .execute();
  return rows.map(toBuildRecord);
}

/**
 * Log lines of a build with seq greater than `afterSeq`, in seq order, each
 * with how long it has been stored (both ends by the database's clock).
 */
export async function listLogLines(
  db: Db,
  buildId: string,
  afterSeq: number,
  limit: number,
): Promise<StoredLogLine[]> {
  const rows = await db
    .selectFrom("build_log_lines")
    .selectAll()
    .select(
      sql<number>`(extract(epoch from now() - recorded_at) * 1000)::float8`.as("stored_for_ms"),
    )
    .where("build_id", "=", buildId)
    .where("seq", ">", String(afterSeq))
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map(toStoredLogLine);
}

/** One move of a tag. */
export interface TagMove {
  readonly tag: string;
  readonly buildId: string;
  readonly digests: Readonly<Record<string, string>>;
  readonly movedAt: Date;
}

function toTagMove(row: TagMoveRow): TagMove {
  return { tag: row.tag, buildId: row.build_id, digests: row.digests, movedAt: row.moved_at };
}

/** The latest move of every tag of a custom image, most recently moved first. */
export async function listCurrentTags(
  db: Db,
  orgId: string,
  customImage: string,
): Promise<TagMove[]> {
  const rows = await db
    .selectFrom("tag_moves")
    .selectAll()
    .distinctOn("tag")
    .where("org_id", "=", orgId)
    .where("custom_image", "=", customImage)
    .orderBy("tag")
    .orderBy("moved_at", "desc")
    .orderBy("build_id", "desc")
    .execute();
  return rows.map(toTagMove).sort((a, b) => b.movedAt.getTime() - a.movedAt.getTime());
}

/** Every move of one tag, newest first. */
export async function listTagMoves(
  db: Db,
  orgId: string,
  customImage: string,
  tag: string,
): Promise<TagMove[]> {
  const rows = await db
    .selectFrom("tag_moves")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("custom_image", "=", customImage)
    .where("tag", "=", tag)
    .orderBy("moved_at", "desc")
    .orderBy("build_id", "desc")
    .execute();
  return rows.map(toTagMove);
}

/** What {@link pruneHistory} deleted. */
export interface PruneResult {
  readonly builds: number;
  readonly logLines: number;
  readonly tagMoves: number;
}

/**
 * Deletes builds created before `cutoff`, their log lines (and any line
 * older than `cutoff`), and tag moves older than `cutoff` that a later move
 * of the same tag superseded (a tag's current target is kept).
 */
export async function pruneHistory(
  db: Kysely<HistoryDatabase>,
  cutoff: Date,
): Promise<PruneResult> {
  return db.transaction().execute(async (trx) => {
    const builds = await trx
      .deleteFrom("builds")
      .where("created_at", "<", cutoff)
      .returning("id")
      .execute();
    const ids = builds.map((b) => b.id);
    const lines = await trx
      .deleteFrom("build_log_lines")
      .where((eb) =>
        ids.length === 0
          ? eb("time", "<", cutoff)
          : eb.or([eb("time", "<", cutoff), eb("build_id", "in", ids)]),
      )
      .executeTakeFirst();
    const moves = await trx
      .deleteFrom("tag_moves as m")
      .where("m.moved_at", "<", cutoff)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("tag_moves as n")
            .select("n.tag")
            .whereRef("n.org_id", "=", "m.org_id")
            .whereRef("n.custom_image", "=", "m.custom_image")
            .whereRef("n.tag", "=", "m.tag")
            .whereRef("n.moved_at", ">", "m.moved_at"),
        ),
      )
      .executeTakeFirst();
    return {
      builds: ids.length,
      logLines: Number(lines.numDeletedRows),
      tagMoves: Number(moves.numDeletedRows),
    };
  });
}
