import type { IndexEntry } from "@tailor/apk";
import { describe, expect, it } from "vitest";
import { diffIndex } from "./index-diff.js";

const entry = (name: string, version: string, checksum: string): IndexEntry => ({
  name,
  version,
  checksum,
  size: 0,
  installedSize: 0,
  description: "",
  url: "",
  license: "",
  depends: [],
  provides: [],
  installIf: [],
});

describe("diffIndex", () => {
  it("adds new versions, removes vanished ones and counts the rest as unchanged", () => {
    const stored = [
      { id: "1", name: "a", version: "1-r0", checksum: "Q1a" },
      { id: "2", name: "b", version: "1-r0", checksum: "Q1b" },
    ];
    const diff = diffIndex(stored, [entry("a", "1-r0", "Q1a"), entry("c", "1-r0", "Q1c")]);
    expect(diff.added.map((e) => e.name)).toEqual(["c"]);
    expect(diff.removedIds).toEqual(["2"]);
    expect(diff.unchanged).toBe(1);
  });

  it("replaces a version whose checksum changed (a rebuild under the same version)", () => {
    const diff = diffIndex(
      [{ id: "1", name: "a", version: "1-r0", checksum: "Q1old" }],
      [entry("a", "1-r0", "Q1new")],
    );
    expect(diff.added.map((e) => e.checksum)).toEqual(["Q1new"]);
    expect(diff.removedIds).toEqual(["1"]);
    expect(diff.unchanged).toBe(0);
  });

  it("keeps the first of duplicate entries and is idempotent once applied", () => {
    const entries = [entry("a", "1-r0", "Q1first"), entry("a", "1-r0", "Q1second")];
    const diff = diffIndex([], entries);
    expect(diff.added.map((e) => e.checksum)).toEqual(["Q1first"]);
    expect(diff.duplicates).toBe(1);
    const again = diffIndex(
      [{ id: "9", name: "a", version: "1-r0", checksum: "Q1first" }],
      entries,
    );
    expect(again).toMatchObject({ added: [], removedIds: [], unchanged: 1 });
  });
});
