/** Where a build is in its life; the order of {@link statusRank} is the only way forward. */
export type BuildStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** The history's record of one build. */
export interface BuildRecord {
  readonly id: string;
  readonly orgId: string;
  readonly customImage: string;
  readonly revision: number;
  readonly trigger: string;
  /** Empty: the build events do not carry the source image version yet. */
  readonly version: string;
  readonly status: BuildStatus;
  /** Manifest digest per "variant/arch". */
  readonly digests: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  /** When the build was queued (or first heard of, until build.queued arrives). */
  readonly createdAt: Date;
  readonly queuedAt: Date | undefined;
  readonly startedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly durationMs: number;
  readonly worker: string;
  readonly failureCode: string;
  readonly failureMessage: string;
  readonly upToDate: boolean;
}

/** One stored line of a build's log. */
export interface LogLineRecord {
  readonly buildId: string;
  readonly seq: number;
  readonly time: Date;
  readonly level: string;
  readonly step: string;
  readonly text: string;
}

/**
 * Rank of a status: events only ever raise it, so a late or redelivered event
 * never moves a build backwards, and the first terminal state wins.
 */
export function statusRank(status: BuildStatus): number {
  switch (status) {
    case "queued":
      return 1;
    case "running":
      return 2;
    default:
      return 3;
  }
}

/** True once the build has ended (succeeded, failed or cancelled). */
export function isTerminal(status: BuildStatus): boolean {
  return statusRank(status) === 3;
}
