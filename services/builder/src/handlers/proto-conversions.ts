import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { builderV1 } from "@tailor/proto";
import type { Build, BuildStatus, LockedConfig } from "../builds/build.js";
import type { Tag, TagMove } from "../registry/stored-image.js";

const statusCodes: Record<BuildStatus, builderV1.BuildStatus> = {
  queued: builderV1.BuildStatus.QUEUED,
  running: builderV1.BuildStatus.RUNNING,
  succeeded: builderV1.BuildStatus.SUCCEEDED,
  failed: builderV1.BuildStatus.FAILED,
  cancelled: builderV1.BuildStatus.CANCELLED,
  up_to_date: builderV1.BuildStatus.UP_TO_DATE,
};

/** A build as tailor.builder.v1.Build. */
export function buildMessage(build: Build): builderV1.Build {
  return create(builderV1.BuildSchema, {
    id: build.id,
    orgId: build.orgId,
    customImage: build.customImage,
    revision: build.revision,
    trigger: build.trigger,
    status: statusCodes[build.status],
    createdAt: timestampFromDate(build.createdAt),
    ...(build.startedAt === undefined ? {} : { startedAt: timestampFromDate(build.startedAt) }),
    ...(build.finishedAt === undefined ? {} : { finishedAt: timestampFromDate(build.finishedAt) }),
    digests: build.digests,
    tags: build.tags,
    failureReason: build.failureReason,
    failureMessage: build.failureMessage,
    ...(build.lockedConfig === undefined
      ? {}
      : { lockedConfig: lockedConfigMessage(build.lockedConfig) }),
    attempts: build.attempts,
  });
}

function lockedConfigMessage(locked: LockedConfig): builderV1.LockedConfig {
  return create(builderV1.LockedConfigSchema, {
    sourceImage: locked.sourceImage,
    sourceImageGeneration: locked.sourceImageGeneration,
    sourceImageVersion: locked.sourceImageVersion,
    revision: locked.revision,
    variants: locked.variants.map((variant) => ({
      variant: variant.variant,
      arch: variant.arch,
      packages: variant.packages,
    })),
    sourceDateEpoch: timestampFromDate(new Date(locked.sourceDateEpoch)),
    builderVersion: locked.builderVersion,
  });
}

/** A tag as tailor.builder.v1.Tag. */
export function tagMessage(tag: Tag): builderV1.Tag {
  return create(builderV1.TagSchema, {
    name: tag.name,
    digest: tag.digest,
    updatedAt: timestampFromDate(tag.updatedAt),
    buildId: tag.buildId,
  });
}

/** A tag move as tailor.builder.v1.TagMove. */
export function tagMoveMessage(move: TagMove): builderV1.TagMove {
  return create(builderV1.TagMoveSchema, {
    fromDigest: move.fromDigest,
    toDigest: move.toDigest,
    buildId: move.buildId,
    movedAt: timestampFromDate(move.movedAt),
  });
}
