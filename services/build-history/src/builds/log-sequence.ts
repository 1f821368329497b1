import type { LogLineRecord } from "./build-record.js";

/** A stored log line and how long it has been stored, by the database's clock. */
export interface StoredLogLine extends LogLineRecord {
  readonly storedForMs: number;
}

/** A missing seq that holds a reader back. */
export interface LogGap {
  /** The first seq not stored yet. */
  readonly seq: number;
  /** Time until the reader gives up waiting for it and reads on past it. */
  readonly givenUpInMs: number;
}

/** What {@link nextLogLines} lets a reader send now. */
export interface LogRun {
  /** Lines in seq order, with no seq missing between them except gaps given up on. */
  readonly lines: readonly StoredLogLine[];
  /** The gap that ended the run early, or undefined when the run took every line given. */
  readonly gap: LogGap | undefined;
}

/**
 * The lines a reader that has sent every seq up to `afterSeq` may send next.
 * Seqs are consecutive from 1, but the recorder stores a build's lines
 * concurrently, so a later line can be stored before an earlier one. The run
 * stops before a missing seq until the line after it has been stored for
 * `gapWaitMs`; then the missing line counts as lost and the run reads on, so
 * it never stalls for ever. `stored` holds lines with seq above `afterSeq`, in
 * seq order.
 */
export function nextLogLines(
  stored: readonly StoredLogLine[],
  afterSeq: number,
  gapWaitMs: number,
): LogRun {
  const lines: StoredLogLine[] = [];
  let expected = afterSeq + 1;
  for (const line of stored) {
    if (line.seq > expected && line.storedForMs < gapWaitMs) {
      return { lines, gap: { seq: expected, givenUpInMs: gapWaitMs - line.storedForMs } };
    }
    lines.push(line);
    expected = line.seq + 1;
  }
  return { lines, gap: undefined };
}
