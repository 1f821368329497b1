import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { historyV1 } from "@tailor/proto";
import type { BuildRecord, BuildStatus, LogLineRecord } from "../builds/build-record.js";
import type { TagMove } from "../store/history-store.js";

const { BuildStatus: ProtoStatus } = historyV1;

const toProtoStatus: Record<BuildStatus, historyV1.BuildStatus> = {
  queued: ProtoStatus.QUEUED,
  running: ProtoStatus.RUNNING,
  succeeded: ProtoStatus.SUCCEEDED,
  failed: ProtoStatus.FAILED,
  cancelled: ProtoStatus.CANCELLED,
};

/** A proto status filter as a domain status; undefined for UNSPECIFIED (any). */
export function fromProtoStatus(status: historyV1.BuildStatus): BuildStatus | undefined {
  const entry = Object.entries(toProtoStatus).find(([, value]) => value === status);
  return entry === undefined ? undefined : (entry[0] as BuildStatus);
}

/** A build record as the proto Build. */
export function toProtoBuild(build: BuildRecord) {
  return {
    id: build.id,
    orgId: build.orgId,
    customImage: build.customImage,
    revision: build.revision,
    trigger: build.trigger,
    version: build.version,
    status: toProtoStatus[build.status],
    digests: { ...build.digests },
    tags: [...build.tags],
    ...(build.queuedAt === undefined ? {} : { queuedAt: timestampFromDate(build.queuedAt) }),
    ...(build.startedAt === undefined ? {} : { startedAt: timestampFromDate(build.startedAt) }),
    ...(build.completedAt === undefined
      ? {}
      : { completedAt: timestampFromDate(build.completedAt) }),
    durationMs: BigInt(build.durationMs),
    worker: build.worker,
    failureCode: build.failureCode,
    failureMessage: build.failureMessage,
    upToDate: build.upToDate,
  };
}

/** A stored log line as the proto LogLine. */
export function toProtoLogLine(line: LogLineRecord) {
  return {
    seq: BigInt(line.seq),
    time: timestampFromDate(line.time),
    level: line.level,
    step: line.step,
    text: line.text,
  };
}

/** A tag move as the proto TagMove. */
export function toProtoTagMove(move: TagMove) {
  return {
    digests: { ...move.digests },
    buildId: move.buildId,
    movedAt: timestampFromDate(move.movedAt),
  };
}
