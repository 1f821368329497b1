import type { Kysely, Transaction } from "@tailor/db";
import { sql } from "@tailor/db";
import type { Build, BuildStatus, LockedConfig } from "../builds/build.js";
import type { BuilderDatabase } from "./builder-database.js";
import type { BuildRow } from "./builds.table.js";

type Db = Kysely<BuilderDatabase> | Transaction<BuilderDatabase>;

/** The one mapping from a stored row to a {@link Build}. */
export function buildFromRow(row: BuildRow): Build {
  return {
    id: row.id,
    orgId: row.org_id,
    customImage: row.custom_image,
    revision: row.revision,
    sourceImage: row.source_image,
    trigger: row.trigger,
    status: row.status as BuildStatus,
    createdAt: row.created_at,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    digests: (row.digests ?? {}) as Record<string, string>,
    tags: (row.tags ?? []) as string[],
    failureReason: row.failure_reason,
    failureMessage: row.failure_message,
    ...(row.locked_config === null ? {} : { lockedConfig: row.locked_config as LockedConfig }),
    attempts: row.attempts,
    logSeq: Number(row.log_seq),
  };
}

/** Stores a new queued build. */
export async function insertBuild(
  db: Db,
  build: Pick<
    Build,
    "id" | "orgId" | "customImage" | "revision" | "sourceImage" | "trigger" | "createdAt"
  >,
): Promise<Build> {
  const row = await db
    .insertInto("builds")
    .values({
      id: build.id,
      org_id: build.orgId,
      custom_image: build.customImage,
      revision: build.revision,
      source_image: build.sourceImage,
      trigger: build.trigger,
      status: "queued",
      created_at: build.createdAt,
      started_at: null,
      finished_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return buildFromRow(row);
}

/** The build with this id, if any. */
export async function findBuild(db: Db, id: string): Promise<Build | undefined> {
  const row = await db.selectFrom("builds").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : buildFromRow(row);
}

/** Locks the build row for the rest of the transaction and returns it. */
export async function lockBuild(trx: Transaction<BuilderDatabase>, id: string) {
  const row = await trx
    .selectFrom("builds")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  return row === undefined ? undefined : buildFromRow(row);
}

/** Marks a queued or running build running for one more attempt; undefined when it already ended. */
export async function startAttempt(
  db: Db,
  id: string,
  worker: string,
  now: Date,
): Promise<Build | undefined> {
  const row = await db
    .updateTable("builds")
    .set({
      status: "running",
      attempts: sql<number>`attempts + 1`,
      worker,
      started_at: sql<Date>`coalesce(started_at, ${now})`,
    })
    .where("id", "=", id)
    .where("status", "in", ["queued", "running"])
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : buildFromRow(row);
}

/** Records the locked config of a running build and the closure facts the planner needs. */
export async function saveLockedConfig(
  db: Db,
  id: string,
  locked: LockedConfig,
  closureNames: Record<string, string[]>,
  closureHash: string,
): Promise<void> {
  await db
    .updateTable("builds")
    .set({
      locked_config: JSON.stringify(locked),
      closure_names: JSON.stringify(closureNames),
      closure_hash: closureHash,
    })
    .where("id", "=", id)
    .execute();
}

/** Remembers the highest log sequence number used. */
export async function saveLogSeq(db: Db, id: string, seq: number): Promise<void> {
  await db
    .updateTable("builds")
    .set({ log_seq: sql<number>`greatest(log_seq, ${seq})` })
    .where("id", "=", id)
    .execute();
}

/** What a running build ends with. */
export interface BuildEnding {
  status: "succeeded" | "failed" | "up_to_date";
  finishedAt: Date;
  digests?: Record<string, string>;
  tags?: string[];
  failureReason?: string;
  failureMessage?: string;
}

/**
 * Ends a running build; undefined when it is not running any more (it was
 * cancelled, or another attempt already ended it), and nothing changes then.
 */
export async function finishBuild(
  db: Db,
  id: string,
  ending: BuildEnding,
): Promise<Build | undefined> {
  const row = await db
    .updateTable("builds")
    .set({
      status: ending.status,
      finished_at: ending.finishedAt,
      ...(ending.digests === undefined ? {} : { digests: JSON.stringify(ending.digests) }),
      ...(ending.tags === undefined ? {} : { tags: JSON.stringify(ending.tags) }),
      ...(ending.failureReason === undefined ? {} : { failure_reason: ending.failureReason }),
      ...(ending.failureMessage === undefined ? {} : { failure_message: ending.failureMessage }),
    })
    .where("id", "=", id)
    .where("status", "=", "running")
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : buildFromRow(row);
}

/** Cancels a queued or running build; undefined when it already ended. */
export async function cancelBuild(db: Db, id: string, now: Date): Promise<Build | undefined> {
  const row = await db
    .updateTable("builds")
    .set({ status: "cancelled", finished_at: now })
    .where("id", "=", id)
    .where("status", "in", ["queued", "running"])
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : buildFromRow(row);
}

/** The status of a build, for workers checking whether it was cancelled meanwhile. */
export async function buildStatus(db: Db, id: string): Promise<BuildStatus | undefined> {
  const row = await db
    .selectFrom("builds")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.status as BuildStatus | undefined;
}

/** The newest succeeded build of a custom image, with its closure hash. */
export async function findLastSucceeded(
  db: Db,
  orgId: string,
  customImage: string,
): Promise<(Build & { closureHash: string | null }) | undefined> {
  const row = await db
    .selectFrom("builds")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("custom_image", "=", customImage)
    .where("status", "=", "succeeded")
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : { ...buildFromRow(row), closureHash: row.closure_hash };
}

/** A custom image and the closure names of its newest locked build. */
export interface LockedClosure {
  orgId: string;
  customImage: string;
  closureNames: Record<string, string[]>;
}

/**
 * Every custom image's newest build that locked a closure and ended well
 * (succeeded or up to date), with its closure names per arch.
 */
export async function listLastLockedClosures(db: Db): Promise<LockedClosure[]> {
  const rows = await db
    .selectFrom("builds")
    .select(["org_id", "custom_image", "closure_names"])
    .distinctOn(["org_id", "custom_image"])
    .where("closure_names", "is not", null)
    .where("status", "in", ["succeeded", "up_to_date"])
    .orderBy("org_id")
    .orderBy("custom_image")
    .orderBy("created_at", "desc")
    .execute();
  return rows.map((row) => ({
    orgId: row.org_id,
    customImage: row.custom_image,
    closureNames: row.closure_names as Record<string, string[]>,
  }));
}

/** Remembers which source image a custom image customizes (for source-image.updated). */
export async function upsertCustomImage(
  db: Db,
  orgId: string,
  name: string,
  sourceImage: string,
  now: Date,
): Promise<void> {
  await db
    .insertInto("custom_images")
    .values({ org_id: orgId, name, source_image: sourceImage, updated_at: now })
    .onConflict((conflict) =>
      conflict
        .columns(["org_id", "name"])
        .doUpdateSet({ source_image: sourceImage, updated_at: now }),
    )
    .execute();
}

/** The custom images of one source image. */
export async function listCustomImagesOf(
  db: Db,
  sourceImage: string,
): Promise<{ orgId: string; name: string }[]> {
  const rows = await db
    .selectFrom("custom_images")
    .select(["org_id", "name"])
    .where("source_image", "=", sourceImage)
    .orderBy("org_id")
    .orderBy("name")
    .execute();
  return rows.map((row) => ({ orgId: row.org_id, name: row.name }));
}

/** A rebuild the planner will request once due. */
export interface PlannedRebuild {
  orgId: string;
  customImage: string;
  revision: number;
  trigger: string;
  /** When the event asking for it happened. */
  plannedAt: Date;
}

/**
 * Plans a rebuild due at `dueAt`. A rebuild already planned for the image
 * keeps its (earlier) due time, so a burst becomes one build; a newer
 * revision wins over an older one.
 */
export async function planRebuild(db: Db, plan: PlannedRebuild, dueAt: Date): Promise<void> {
  await db
    .insertInto("planned_rebuilds")
    .values({
      org_id: plan.orgId,
      custom_image: plan.customImage,
      revision: plan.revision,
      trigger: plan.trigger,
      planned_at: plan.plannedAt,
      due_at: dueAt,
    })
    .onConflict((conflict) =>
      conflict.columns(["org_id", "custom_image"]).doUpdateSet({
        // 0 (latest) wins over a pinned revision; otherwise the higher revision.
        revision: sql<number>`case when planned_rebuilds.revision = 0 or excluded.revision = 0 then 0 else greatest(planned_rebuilds.revision, excluded.revision) end`,
        planned_at: sql<Date>`least(planned_rebuilds.planned_at, excluded.planned_at)`,
      }),
    )
    .execute();
}

/** Takes (deletes and returns) up to `limit` planned rebuilds that are due; other replicas skip them. */
export async function takeDueRebuilds(
  trx: Transaction<BuilderDatabase>,
  now: Date,
  limit: number,
): Promise<PlannedRebuild[]> {
  const rows = await trx
    .selectFrom("planned_rebuilds")
    .selectAll()
    .where("due_at", "<=", now)
    .orderBy("due_at")
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  for (const row of rows) {
    await trx
      .deleteFrom("planned_rebuilds")
      .where("org_id", "=", row.org_id)
      .where("custom_image", "=", row.custom_image)
      .execute();
  }
  return rows.map((row) => ({
    orgId: row.org_id,
    customImage: row.custom_image,
    revision: row.revision,
    trigger: row.trigger,
    plannedAt: row.planned_at,
  }));
}

/** True when a build of the image was requested at or after `since` (and not cancelled): it covers a plan made then. */
export async function hasBuildSince(
  db: Db,
  orgId: string,
  customImage: string,
  since: Date,
): Promise<boolean> {
  const row = await db
    .selectFrom("builds")
    .select("id")
    .where("org_id", "=", orgId)
    .where("custom_image", "=", customImage)
    .where("created_at", ">=", since)
    .where("status", "<>", "cancelled")
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
