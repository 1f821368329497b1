/** Why an upstream index was refused. */
export type IndexRejection = "untrusted" | "bad_signature" | "unreadable";

/** An upstream APKINDEX failed verification: no trusted signature, a bad one, or a damaged archive. */
export class IndexRejectedError extends Error {
  override readonly name = "IndexRejectedError";
  constructor(
    readonly repository: string,
    readonly arch: string,
    readonly rejection: IndexRejection,
    /** Keys that signed the index (for an untrusted one) or whose signature failed. */
    readonly keyNames: readonly string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another process took over the repository's sync lease (this one stalled past it); nothing was applied. */
export class SyncLeaseLostError extends Error {
  override readonly name = "SyncLeaseLostError";
  constructor(readonly repository: string) {
    super(
      `sync of repository "${repository}" lost its lease to another process; nothing was applied, retry the sync`,
    );
  }
}
