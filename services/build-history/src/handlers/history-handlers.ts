import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Principal } from "@tailor/auth";
import { canAccessOrg, requireOrgRole } from "@tailor/auth";
import type { Kysely } from "@tailor/db";
import type { HandlerContext, ServiceImpl } from "@tailor/grpc";
import { mapErrors } from "@tailor/grpc";
import type { historyV1 } from "@tailor/proto";
import type { BuildRecord } from "../builds/build-record.js";
import { isTerminal } from "../builds/build-record.js";
import { BuildNotFoundError, InvalidHistoryRequestError } from "../builds/errors.js";
import { nextLogLines } from "../builds/log-sequence.js";
import type { LogNotifier } from "../events/log-notifier.js";
import type { HistoryDatabase } from "../store/history.table.js";
import {
  findBuild,
  listBuilds,
  listCurrentTags,
  listLogLines,
  listTagMoves,
} from "../store/history-store.js";
import {
  fromProtoStatus,
  toProtoBuild,
  toProtoLogLine,
  toProtoTagMove,
} from "./proto-conversions.js";
import { toStatus } from "./to-status.js";

/** What the BuildHistoryService handlers need. */
export interface HistoryHandlerDependencies {
  readonly db: Kysely<HistoryDatabase>;
  readonly notifier: LogNotifier;
  readonly authenticate: (ctx: HandlerContext) => Promise<Principal>;
  readonly now: () => Date;
  /** How often a live tail re-reads stored lines when no local notification arrives. */
  readonly tailPollMs: number;
  /**
   * How long readers wait for a missing log line once the line after it is
   * stored (lines are stored concurrently); after that it counts as lost.
   */
  readonly logGapWaitMs: number;
}

/** The listing window when `since` is not given. */
const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;
const BUILD_PAGE = { default: 50, max: 500 };
const LOG_PAGE = { default: 1_000, max: 10_000 };
const TAIL_BATCH = 1_000;
/** Pause before a tail's last read once its build has ended. */
const TAIL_SETTLE_MS = 300;
/** Added to a gap's remaining wait so the re-read finds it given up (timer and database clocks differ). */
const GAP_CLOCK_MARGIN_MS = 20;

function pageSize(size: number | undefined, limits: { default: number; max: number }): number {
  if (size === undefined || size === 0) return limits.default;
  return Math.min(size, limits.max);
}

function requireField(field: string, value: string): string {
  if (value.trim() === "") throw new InvalidHistoryRequestError(field, `${field} is required`);
  return value;
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function decodeToken<T>(token: string, valid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (valid(value)) return value;
  } catch {
    // falls through to the error below
  }
  throw new InvalidHistoryRequestError(
    "page.token",
    "page.token is not a token this listing returned",
  );
}

type BuildCursor = { c: string; i: string };
const isBuildCursor = (v: unknown): v is BuildCursor =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as BuildCursor).c === "string" &&
  typeof (v as BuildCursor).i === "string";
const isSeq = (v: unknown): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** ListBuilds, GetBuild, GetBuildLog, TailBuildLog, ListVersions and TagHistory. */
export function createHistoryHandlers(
  deps: HistoryHandlerDependencies,
): Omit<ServiceImpl<typeof historyV1.BuildHistoryService>, "getServiceInfo"> {
  /** The build if the caller may read it; another org's build is "not found". */
  async function visibleBuild(
    ctx: HandlerContext,
    id: string,
    action: string,
  ): Promise<BuildRecord> {
    const principal = await deps.authenticate(ctx);
    const build = await findBuild(deps.db, requireField("id", id));
    if (build === undefined || !canAccessOrg(principal, build.orgId))
      throw new BuildNotFoundError(id);
    requireOrgRole(principal, build.orgId, "viewer", action);
    return build;
  }

  async function orgReader(ctx: HandlerContext, orgId: string, action: string): Promise<void> {
    const principal = await deps.authenticate(ctx);
    requireOrgRole(principal, requireField("org_id", orgId), "viewer", action);
  }

  return {
    listBuilds: (request, ctx) =>
      mapErrors(async () => {
        await orgReader(ctx, request.orgId, "list builds");
        const limit = pageSize(request.page?.size, BUILD_PAGE);
        const token = request.page?.token ?? "";
        const cursor = token === "" ? undefined : decodeToken(token, isBuildCursor);
        const since =
          request.since === undefined
            ? new Date(deps.now().getTime() - DEFAULT_WINDOW_MS)
            : timestampDate(request.since);
        const builds = await listBuilds(deps.db, {
          orgId: request.orgId,
          customImage: request.customImage,
          since,
          status: fromProtoStatus(request.status),
          before:
            cursor === undefined ? undefined : { createdAt: new Date(cursor.c), id: cursor.i },
          limit,
        });
        const last = builds.at(-1);
        const nextToken =
          builds.length === limit && last !== undefined
            ? encodeToken({ c: last.createdAt.toISOString(), i: last.id })
            : "";
        return { builds: builds.map(toProtoBuild), page: { nextToken } };
      }, toStatus),

    getBuild: (request, ctx) =>
      mapErrors(async () => {
        const build = await visibleBuild(ctx, request.id, "read builds");
        return { build: toProtoBuild(build) };
      }, toStatus),

    getBuildLog: (request, ctx) =>
      mapErrors(async () => {
        const build = await visibleBuild(ctx, request.id, "read build logs");
        const limit = pageSize(request.page?.size, LOG_PAGE);
        const token = request.page?.token ?? "";
        const after = token === "" ? 0 : decodeToken(token, isSeq);
        // A page ends before a line still missing, so a token never skips a line stored late;
        // a page cut short has no next token, like the last page of a running build.
        const stored = await listLogLines(deps.db, build.id, after, limit);
        const { lines } = nextLogLines(stored, after, deps.logGapWaitMs);
        const last = lines.at(-1);
        const nextToken = lines.length === limit && last !== undefined ? encodeToken(last.seq) : "";
        return { lines: lines.map(toProtoLogLine), page: { nextToken } };
      }, toStatus),

    async *tailBuildLog(request, ctx) {
      const build = await mapErrors(
        () => visibleBuild(ctx, request.id, "read build logs"),
        toStatus,
      );
      // Every seq up to `after` has been sent (or given up on); lines go out in seq order, once.
      let after = 0;
      let endedAt = isTerminal(build.status) ? performance.now() : undefined;
      for (;;) {
        // Read the status before the lines: lines stored before the end are all sent.
        if (endedAt === undefined) {
          const status = (await findBuild(deps.db, build.id))?.status ?? "cancelled";
          if (isTerminal(status)) endedAt = performance.now();
        }
        // Once ended, a read at least TAIL_SETTLE_MS later catches lines recorded
        // just after the terminal event (deliveries are handled concurrently).
        const settleInMs =
          endedAt === undefined ? undefined : endedAt + TAIL_SETTLE_MS - performance.now();
        let gapInMs: number | undefined;
        for (;;) {
          const stored = await listLogLines(deps.db, build.id, after, TAIL_BATCH);
          const run = nextLogLines(stored, after, deps.logGapWaitMs);
          for (const line of run.lines) {
            after = line.seq;
            yield { line: toProtoLogLine(line) };
          }
          if (run.gap !== undefined) {
            gapInMs = run.gap.givenUpInMs;
            break;
          }
          if (stored.length < TAIL_BATCH) break;
        }
        if (ctx.signal.aborted) return;
        if (settleInMs !== undefined && settleInMs <= 0 && gapInMs === undefined) return;
        // Wake on the next stored line, when a gap is given up on, or when settled.
        let pause = deps.tailPollMs;
        if (gapInMs !== undefined) pause = Math.min(pause, gapInMs + GAP_CLOCK_MARGIN_MS);
        if (settleInMs !== undefined && settleInMs > 0) pause = Math.min(pause, settleInMs);
        await deps.notifier.wait(build.id, pause, ctx.signal);
      }
    },

    listVersions: (request, ctx) =>
      mapErrors(async () => {
        await orgReader(ctx, request.orgId, "list versions");
        const image = requireField("custom_image", request.customImage);
        const tags = await listCurrentTags(deps.db, request.orgId, image);
        return {
          versions: tags.map((move) => ({
            tag: move.tag,
            digests: { ...move.digests },
            buildId: move.buildId,
            updatedAt: toProtoTagMove(move).movedAt,
          })),
        };
      }, toStatus),

    tagHistory: (request, ctx) =>
      mapErrors(async () => {
        await orgReader(ctx, request.orgId, "read tag history");
        const image = requireField("custom_image", request.customImage);
        const tag = requireField("tag", request.tag);
        const moves = await listTagMoves(deps.db, request.orgId, image, tag);
        return { moves: moves.map(toProtoTagMove) };
      }, toStatus),
  };
}
