/**
 * The APKINDEX text format: records of `X:value` lines separated by blank
 * lines. Parsing follows apk-tools' rules for what makes a package unusable;
 * formatting writes exactly what `apk index` writes.
 */

import type { IndexEntry } from "./index-entry.js";
import { formatIndexEntryLines, IndexFieldCollector } from "./index-entry.js";

/** A record of an index that gives no usable package, and why. */
export interface SkippedIndexRecord {
  /** 1-based line the problem is on (or where the record starts). */
  readonly line: number;
  /** What is wrong, naming the package when known. */
  readonly reason: string;
}

/** What {@link parseApkIndexText} found. */
export interface ParsedApkIndex {
  /** Usable packages, in file order. */
  readonly entries: IndexEntry[];
  /** Records left out, e.g. with an unknown upper-case field as apk does. */
  readonly skipped: SkippedIndexRecord[];
}

/** Options of {@link parseApkIndexText}. */
export interface ParseApkIndexOptions {
  /** Name of the index, for messages. */
  readonly file?: string;
}

/**
 * Parses APKINDEX text. Unknown lower-case fields are ignored; a record with
 * an unknown upper-case field, a malformed line, an invalid number or
 * checksum, or without `P:`, `V:` or `C:` is left out and listed in
 * `skipped` (apk marks such packages uninstallable, or refuses the index).
 * Installed-database letters (`F:`, `R:`, `Z:`, `r:` …) are ignored, as apk
 * does in a repository index.
 */
export function parseApkIndexText(
  text: string,
  options: ParseApkIndexOptions = {},
): ParsedApkIndex {
  const entries: IndexEntry[] = [];
  const skipped: SkippedIndexRecord[] = [];
  const prefix = options.file === undefined ? "" : `${options.file}: `;

  let collector: IndexFieldCollector | undefined;
  let startLine = 0;
  let problem: SkippedIndexRecord | undefined;
  const close = () => {
    if (collector === undefined) return;
    if (problem !== undefined) {
      skipped.push(problem);
    } else {
      const result = collector.finish();
      if ("entry" in result) entries.push(result.entry);
      else skipped.push({ line: startLine, reason: `${prefix}${result.reason}` });
    }
    collector = undefined;
    problem = undefined;
  };

  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const lineNumber = index + 1;
    // apk ends a record at any line shorter than "X:".
    if (line.length < 2) {
      close();
      continue;
    }
    if (collector === undefined) {
      collector = new IndexFieldCollector();
      startLine = lineNumber;
    }
    if (problem !== undefined) continue;
    if (line[1] !== ":") {
      problem = {
        line: lineNumber,
        reason: `${prefix}${collector.label()}: line is not "X:value" (apk rejects it as a format error)`,
      };
      continue;
    }
    const outcome = collector.apply(line[0] ?? "", line.slice(2));
    if (outcome.kind === "unusable") {
      problem = { line: lineNumber, reason: `${prefix}${collector.label()}: ${outcome.reason}` };
    }
  }
  close();
  return { entries, skipped };
}

/**
 * APKINDEX text for `entries`, in the given order, each record in apk-tools'
 * field order followed by a blank line, exactly as `apk index` writes it.
 * @throws FieldError for a value that cannot be written (newline, bad number or checksum).
 */
export function formatApkIndexText(entries: Iterable<IndexEntry>): string {
  let out = "";
  for (const entry of entries) out += `${formatIndexEntryLines(entry)}\n`;
  return out;
}
