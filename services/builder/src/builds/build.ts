/** A build as the builder keeps it: one attempt to assemble one revision of a custom image. */

/** Where a build is. Terminal: succeeded, failed, cancelled, up_to_date. */
export type BuildStatus =
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled"
  | "up_to_date";

/** Statuses after which nothing changes any more. */
export const TERMINAL_STATUSES: readonly BuildStatus[] = [
  "succeeded",
  "failed",
  "cancelled",
  "up_to_date",
];

/** True once a build can no longer change. */
export function isTerminal(status: BuildStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** One package of a locked closure. */
export interface LockedPackage {
  name: string;
  version: string;
  arch: string;
  repository: string;
  checksum: string;
  pinned: boolean;
}

/** The closure of one variant and arch. */
export interface LockedVariant {
  variant: "image" | "dev";
  arch: string;
  packages: LockedPackage[];
}

/** Everything a build was made from, so it can be repeated bit for bit. */
export interface LockedConfig {
  sourceImage: string;
  sourceImageGeneration: number;
  sourceImageVersion: string;
  revision: number;
  variants: LockedVariant[];
  /** ISO time used for the config and every generated file. */
  sourceDateEpoch: string;
  builderVersion: string;
}

/** A build. */
export interface Build {
  /** UUIDv7: ids sort by creation time. */
  id: string;
  orgId: string;
  customImage: string;
  /** The revision built (resolved from "latest" when the build was requested). */
  revision: number;
  sourceImage: string;
  /** "manual", "package:<name>=<version>", "source-image", "custom-image". */
  trigger: string;
  status: BuildStatus;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Index digest per variant ("image", "dev") and manifest digest per "variant/arch". */
  digests: Record<string, string>;
  tags: string[];
  failureReason: string;
  failureMessage: string;
  lockedConfig?: LockedConfig;
  /** How many times a worker picked the job up. */
  attempts: number;
  /** Highest log line sequence number used so far. */
  logSeq: number;
}

/** The trigger of a build a person asked for. */
export const MANUAL_TRIGGER = "manual";
