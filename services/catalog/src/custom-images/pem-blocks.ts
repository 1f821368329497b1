/** One `-----BEGIN <label>-----` … `-----END <label>-----` block of a PEM text. */
export interface PemBlock {
  readonly label: string;
  /** The whole block, markers included. */
  readonly text: string;
}

/** What {@link readPemBlocks} found: the blocks, and whatever else the text held. */
export interface PemContents {
  readonly blocks: readonly PemBlock[];
  /** Non-blank lines outside every block (comment lines starting with `#` excluded). */
  readonly strayLines: readonly string[];
  /** A BEGIN marker without its END (the label), if any. */
  readonly unterminated?: string;
}

const BEGIN = /-----BEGIN ([^-\r\n]+)-----/g;

/** Splits PEM text into its blocks, noting stray text and an unterminated block. */
export function readPemBlocks(text: string): PemContents {
  const blocks: PemBlock[] = [];
  const outside: string[] = [];
  let cursor = 0;
  let unterminated: string | undefined;
  BEGIN.lastIndex = 0;
  for (let match = BEGIN.exec(text); match !== null; match = BEGIN.exec(text)) {
    const label = (match[1] as string).trim();
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, match.index);
    outside.push(text.slice(cursor, match.index));
    if (end < 0) {
      unterminated = label;
      cursor = text.length;
      break;
    }
    cursor = end + endMarker.length;
    blocks.push({ label, text: text.slice(match.index, cursor) });
    BEGIN.lastIndex = cursor;
  }
  if (cursor < text.length) outside.push(text.slice(cursor));
  const strayLines = outside
    .flatMap((part) => part.split(/\r?\n/))
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return unterminated === undefined ? { blocks, strayLines } : { blocks, strayLines, unterminated };
}
