import { describe, expect, it } from "vitest";
import type { StoredLogLine } from "./log-sequence.js";
import { nextLogLines } from "./log-sequence.js";

const line = (seq: number, storedForMs = 0): StoredLogLine => ({
  buildId: "b",
  seq,
  time: new Date(0),
  level: "info",
  step: "assemble",
  text: `line ${seq}`,
  storedForMs,
});
const seqs = (lines: readonly StoredLogLine[]) => lines.map((l) => l.seq);

describe("nextLogLines", () => {
  it("takes consecutive lines after the last one sent", () => {
    const run = nextLogLines([line(4), line(5), line(6)], 3, 5_000);
    expect(seqs(run.lines)).toEqual([4, 5, 6]);
    expect(run.gap).toBeUndefined();
  });

  it("stops before a missing line stored after later ones, saying how long it is waited for", () => {
    const run = nextLogLines([line(1), line(2), line(4, 1_000), line(5)], 0, 5_000);
    expect(seqs(run.lines)).toEqual([1, 2]);
    expect(run.gap).toEqual({ seq: 3, givenUpInMs: 4_000 });
  });

  it("waits for the first line too", () => {
    const run = nextLogLines([line(2), line(3)], 0, 5_000);
    expect(run.lines).toEqual([]);
    expect(run.gap?.seq).toBe(1);
  });

  it("reads on past a line missing for longer than the wait, stopping at the next fresh gap", () => {
    const run = nextLogLines([line(1), line(4, 5_000), line(5), line(7, 10)], 0, 5_000);
    expect(seqs(run.lines)).toEqual([1, 4, 5]);
    expect(run.gap).toEqual({ seq: 6, givenUpInMs: 4_990 });
  });
});
