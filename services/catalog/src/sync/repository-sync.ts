/** What started a sync. */
export type SyncTrigger = "manual" | "schedule";

/** What one arch's sync found. */
export interface ArchSyncResult {
  readonly arch: string;
  /** "sha256:…" of the APKINDEX.tar.gz applied. */
  readonly indexDigest: string;
  /** The trusted key whose signature verified the index. */
  readonly signedBy: string;
  readonly added: number;
  readonly removed: number;
  readonly unchanged: number;
  /** True when the index was byte-identical to the last applied one (nothing was compared). */
  readonly indexUnchanged: boolean;
}

/** One recorded sync of a repository. */
export interface RepositorySync {
  readonly id: string;
  readonly repository: string;
  readonly trigger: SyncTrigger;
  readonly status: "succeeded" | "failed";
  /** Why a failed sync failed, or what a successful one could not mirror; "" otherwise. */
  readonly error: string;
  readonly arches: readonly ArchSyncResult[];
  readonly startedAt: Date;
  readonly finishedAt: Date;
}
