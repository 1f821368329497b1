import { describe, expect, it } from "vitest";
import { parseByteRange } from "./byte-range.js";

describe("parseByteRange", () => {
  it("serves the whole blob without a Range header, for other units and for several ranges", () => {
    expect(parseByteRange(undefined, 100)).toEqual({ kind: "full" });
    expect(parseByteRange("  ", 100)).toEqual({ kind: "full" });
    expect(parseByteRange("items=0-5", 100)).toEqual({ kind: "full" });
    expect(parseByteRange("bytes=0-1,5-9", 100)).toEqual({ kind: "full" });
  });

  it.each([
    ["bytes=0-9", { start: 0, end: 9 }],
    ["bytes=10-", { start: 10, end: 99 }],
    ["bytes=90-500", { start: 90, end: 99 }],
    ["bytes=-10", { start: 90, end: 99 }],
    ["bytes=-1000", { start: 0, end: 99 }],
    ["Bytes = 5 - 5", { start: 5, end: 5 }],
    ["bytes=99-99", { start: 99, end: 99 }],
    ["bytes=0-99999999999999999999", { start: 0, end: 99 }],
    ["bytes=-99999999999999999999", { start: 0, end: 99 }],
  ])("reads %s of a 100-byte blob", (header, range) => {
    expect(parseByteRange(header, 100)).toEqual({ kind: "partial", ...range });
  });

  // RFC 9110 §14.2: a Range the server cannot parse is ignored, not refused.
  it.each([
    "bytes=9-3",
    "bytes=-",
    "bytes=a-b",
    "bytes=",
    "bytes=1.5-3",
    "bytes=--5",
    "nonsense",
    "=0-5",
  ])("ignores the invalid Range %s and serves the whole blob", (header) => {
    expect(parseByteRange(header, 100)).toEqual({ kind: "full" });
  });

  it.each([
    ["bytes=100-", "past the blob's 100 bytes"],
    ["bytes=150-200", "past the blob's 100 bytes"],
    ["bytes=99999999999999999999-", "past the blob's 100 bytes"],
    ["bytes=-0", "a suffix of 0 bytes is empty"],
  ])("refuses the valid but unsatisfiable %s of a 100-byte blob", (header, reason) => {
    const parsed = parseByteRange(header, 100);
    expect(parsed.kind).toBe("unsatisfiable");
    expect(parsed.kind === "unsatisfiable" ? parsed.reason : "").toContain(reason);
  });

  it("has no range to serve of an empty blob, except a suffix which is the whole (empty) blob", () => {
    expect(parseByteRange("bytes=0-", 0).kind).toBe("unsatisfiable");
    expect(parseByteRange("bytes=-0", 0).kind).toBe("unsatisfiable");
    expect(parseByteRange("bytes=-5", 0)).toEqual({ kind: "full" });
  });
});
