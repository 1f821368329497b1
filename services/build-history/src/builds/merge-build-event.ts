import type { BuildRecord, BuildStatus } from "./build-record.js";
import { isTerminal, statusRank } from "./build-record.js";

/** What one build event says about its build, decoded from the bus. */
export type BuildEvent =
  | {
      readonly kind: "queued";
      readonly buildId: string;
      readonly orgId: string;
      readonly customImage: string;
      readonly revision: number;
      readonly trigger: string;
      readonly at: Date;
    }
  | {
      readonly kind: "started";
      readonly buildId: string;
      readonly orgId: string;
      readonly worker: string;
      readonly at: Date;
    }
  | {
      readonly kind: "succeeded";
      readonly buildId: string;
      readonly orgId: string;
      readonly digests: Readonly<Record<string, string>>;
      readonly tags: readonly string[];
      readonly durationMs: number;
      readonly upToDate: boolean;
      /** Source image main package version; empty when the builder did not say. */
      readonly version: string;
      readonly at: Date;
    }
  | {
      readonly kind: "failed";
      readonly buildId: string;
      readonly orgId: string;
      readonly code: string;
      readonly message: string;
      readonly at: Date;
    }
  | {
      readonly kind: "cancelled";
      readonly buildId: string;
      readonly orgId: string;
      readonly at: Date;
    };

const statusOf: Record<BuildEvent["kind"], BuildStatus> = {
  queued: "queued",
  started: "running",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

function blankBuild(event: BuildEvent): BuildRecord {
  return {
    id: event.buildId,
    orgId: event.orgId,
    customImage: "",
    revision: 0,
    trigger: "",
    version: "",
    status: "queued",
    digests: {},
    tags: [],
    createdAt: event.at,
    queuedAt: undefined,
    startedAt: undefined,
    completedAt: undefined,
    durationMs: 0,
    worker: "",
    failureCode: "",
    failureMessage: "",
    upToDate: false,
  };
}

function durationOf(build: BuildRecord): number {
  if (build.durationMs > 0 || build.startedAt === undefined || build.completedAt === undefined) {
    return build.durationMs;
  }
  return Math.max(0, build.completedAt.getTime() - build.startedAt.getTime());
}

/**
 * Folds one event into a build's record. Applying an event twice, or events
 * in any order, gives the same record: the status only rises
 * (queued → running → a terminal state, the first terminal state wins) and
 * facts only fill in what is still unknown.
 */
export function mergeBuildEvent(current: BuildRecord | undefined, event: BuildEvent): BuildRecord {
  const build = current ?? blankBuild(event);
  const target = statusOf[event.kind];
  const raises = current === undefined || statusRank(target) > statusRank(build.status);
  const status = raises ? target : build.status;
  let merged: BuildRecord;
  switch (event.kind) {
    case "queued":
      merged = {
        ...build,
        status,
        customImage: event.customImage,
        revision: event.revision,
        trigger: event.trigger,
        queuedAt: event.at,
        createdAt: event.at,
      };
      break;
    case "started":
      merged = {
        ...build,
        status,
        // A retried build reports its new worker; once ended, the worker stays.
        worker: isTerminal(build.status) && build.worker !== "" ? build.worker : event.worker,
        startedAt: build.startedAt ?? event.at,
      };
      break;
    case "succeeded":
      merged = raises
        ? {
            ...build,
            status,
            digests: { ...event.digests },
            tags: [...event.tags],
            durationMs: event.durationMs,
            upToDate: event.upToDate,
            version: event.version === "" ? build.version : event.version,
            completedAt: event.at,
          }
        : build;
      break;
    case "failed":
      merged = raises
        ? {
            ...build,
            status,
            failureCode: event.code,
            failureMessage: event.message,
            completedAt: event.at,
          }
        : build;
      break;
    case "cancelled":
      merged = raises ? { ...build, status, completedAt: event.at } : build;
      break;
  }
  return { ...merged, durationMs: durationOf(merged) };
}
