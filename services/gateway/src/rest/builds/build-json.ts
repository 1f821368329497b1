// The REST shapes of builds, log lines, versions and tag moves, and the
// mappings from the builder's and the build history's messages to them.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { builderV1, historyV1 } from "@tailor/proto";

/** Where a build is in its life, as REST clients see it. */
export type BuildStatusWord = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** Every {@link BuildStatusWord}, in life order. */
export const BUILD_STATUS_WORDS: readonly BuildStatusWord[] = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "cancelled",
];

/** Why a build failed. */
export interface BuildFailureJson {
  /** Stable reason code, e.g. `resolve_failed`, `file_conflict`. */
  readonly reason: string;
  readonly message: string;
}

/** A build in listings. */
export interface BuildJson {
  readonly id: string;
  readonly organizationId: string;
  readonly customImage: string;
  readonly revision: number;
  readonly trigger: string;
  readonly status: BuildStatusWord;
  /** True when the build found the closure unchanged and pushed nothing new. */
  readonly upToDate: boolean;
  /** Version of the source image's main package, when known. */
  readonly version: string | null;
  readonly digests: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  readonly queuedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Milliseconds from start to end; null until the build ends. */
  readonly durationMs: number | null;
  readonly worker: string | null;
  readonly failure: BuildFailureJson | null;
}

/** One package of a locked closure. */
export interface LockedPackageJson {
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  readonly repository: string;
  readonly checksum: string;
  readonly pinned: boolean;
}

/** Everything a build was made from. */
export interface LockedConfigJson {
  readonly sourceImage: string;
  readonly sourceImageGeneration: number;
  readonly sourceImageVersion: string;
  readonly revision: number;
  readonly sourceDateEpoch: string | null;
  readonly builderVersion: string;
  readonly variants: readonly {
    readonly variant: string;
    readonly arch: string;
    readonly packages: readonly LockedPackageJson[];
  }[];
}

/** One build with everything known about it. */
export interface BuildDetailJson extends BuildJson {
  /** How many times a worker picked the build up. */
  readonly attempts: number;
  /** Null until the build has resolved its packages. */
  readonly lockedConfig: LockedConfigJson | null;
}

/** One line of a build's log. */
export interface LogLineJson {
  /** Position in the log, from 1. */
  readonly seq: number;
  readonly time: string | null;
  readonly level: string;
  readonly step: string;
  readonly text: string;
}

/** One tag of a custom image and where it points now. */
export interface VersionJson {
  readonly tag: string;
  readonly digests: Readonly<Record<string, string>>;
  readonly buildId: string;
  readonly updatedAt: string | null;
}

/** One time a tag was pointed at a build's images. */
export interface TagMoveJson {
  readonly digests: Readonly<Record<string, string>>;
  readonly buildId: string;
  readonly movedAt: string | null;
}

function isoOf(timestamp: Timestamp | undefined): string | null {
  return timestamp === undefined ? null : timestampDate(timestamp).toISOString();
}

function textOrNull(value: string): string | null {
  return value === "" ? null : value;
}

function failureOf(reason: string, message: string): BuildFailureJson | null {
  return reason === "" && message === "" ? null : { reason, message };
}

const HISTORY_STATUS: ReadonlyMap<historyV1.BuildStatus, BuildStatusWord> = new Map([
  [historyV1.BuildStatus.QUEUED, "queued"],
  [historyV1.BuildStatus.RUNNING, "running"],
  [historyV1.BuildStatus.SUCCEEDED, "succeeded"],
  [historyV1.BuildStatus.FAILED, "failed"],
  [historyV1.BuildStatus.CANCELLED, "cancelled"],
]);

const BUILDER_STATUS: ReadonlyMap<builderV1.BuildStatus, BuildStatusWord> = new Map([
  [builderV1.BuildStatus.QUEUED, "queued"],
  [builderV1.BuildStatus.RUNNING, "running"],
  [builderV1.BuildStatus.SUCCEEDED, "succeeded"],
  [builderV1.BuildStatus.FAILED, "failed"],
  [builderV1.BuildStatus.CANCELLED, "cancelled"],
  // An up-to-date build succeeded without pushing anything; `upToDate` says so.
  [builderV1.BuildStatus.UP_TO_DATE, "succeeded"],
]);

/** The history's status filter for a REST status word. */
export function historyStatusOf(word: BuildStatusWord): historyV1.BuildStatus {
  for (const [status, candidate] of HISTORY_STATUS) if (candidate === word) return status;
  return historyV1.BuildStatus.UNSPECIFIED;
}

/** True once a build has ended (succeeded, failed, cancelled or up to date). */
export function isFinished(build: builderV1.Build): boolean {
  const word = BUILDER_STATUS.get(build.status);
  return word !== undefined && word !== "queued" && word !== "running";
}

/** A build of the history (listings) in its REST shape. */
export function buildJsonFromHistory(build: historyV1.Build): BuildJson {
  const finishedAt = isoOf(build.completedAt);
  return {
    id: build.id,
    organizationId: build.orgId,
    customImage: build.customImage,
    revision: build.revision,
    trigger: build.trigger,
    status: HISTORY_STATUS.get(build.status) ?? "queued",
    upToDate: build.upToDate,
    version: textOrNull(build.version),
    digests: { ...build.digests },
    tags: [...build.tags],
    queuedAt: isoOf(build.queuedAt),
    startedAt: isoOf(build.startedAt),
    finishedAt,
    durationMs: finishedAt === null ? null : Number(build.durationMs),
    worker: textOrNull(build.worker),
    failure: failureOf(build.failureCode, build.failureMessage),
  };
}

function lockedConfigJson(locked: builderV1.LockedConfig): LockedConfigJson {
  return {
    sourceImage: locked.sourceImage,
    sourceImageGeneration: locked.sourceImageGeneration,
    sourceImageVersion: locked.sourceImageVersion,
    revision: locked.revision,
    sourceDateEpoch: isoOf(locked.sourceDateEpoch),
    builderVersion: locked.builderVersion,
    variants: locked.variants.map((variant) => ({
      variant: variant.variant,
      arch: variant.arch,
      packages: variant.packages.map((pkg) => ({
        name: pkg.name,
        version: pkg.version,
        arch: pkg.arch,
        repository: pkg.repository,
        checksum: pkg.checksum,
        pinned: pkg.pinned,
      })),
    })),
  };
}

/**
 * One build in its REST shape: the builder's record (the source of truth for
 * status, digests and the locked config) completed with what only the
 * history knows (version, worker) when it has heard of the build yet.
 */
export function buildDetailJson(
  build: builderV1.Build,
  recorded: historyV1.Build | undefined,
): BuildDetailJson {
  const startedAt = isoOf(build.startedAt);
  const finishedAt = isoOf(build.finishedAt);
  const durationMs =
    finishedAt === null || startedAt === null
      ? null
      : Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt));
  const version = recorded?.version || build.lockedConfig?.sourceImageVersion || "";
  return {
    id: build.id,
    organizationId: build.orgId,
    customImage: build.customImage,
    revision: build.revision,
    trigger: build.trigger,
    status: BUILDER_STATUS.get(build.status) ?? "queued",
    upToDate: build.status === builderV1.BuildStatus.UP_TO_DATE,
    version: textOrNull(version),
    digests: { ...build.digests },
    tags: [...build.tags],
    queuedAt: isoOf(build.createdAt),
    startedAt,
    finishedAt,
    durationMs,
    worker: textOrNull(recorded?.worker ?? ""),
    failure: failureOf(build.failureReason, build.failureMessage),
    attempts: build.attempts,
    lockedConfig: build.lockedConfig === undefined ? null : lockedConfigJson(build.lockedConfig),
  };
}

/** A log line in its REST shape. */
export function logLineJson(line: historyV1.LogLine): LogLineJson {
  return {
    seq: Number(line.seq),
    time: isoOf(line.time),
    level: line.level,
    step: line.step,
    text: line.text,
  };
}

/** A current tag of a custom image in its REST shape. */
export function versionJson(version: historyV1.Version): VersionJson {
  return {
    tag: version.tag,
    digests: { ...version.digests },
    buildId: version.buildId,
    updatedAt: isoOf(version.updatedAt),
  };
}

/** A tag move in its REST shape. */
export function tagMoveJson(move: historyV1.TagMove): TagMoveJson {
  return { digests: { ...move.digests }, buildId: move.buildId, movedAt: isoOf(move.movedAt) };
}
