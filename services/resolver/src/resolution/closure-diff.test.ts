import { describe, expect, it } from "vitest";
import { diffClosures } from "./closure-diff.js";

describe("diffClosures", () => {
  it("reports added, removed and changed packages with installed-size deltas", () => {
    const diff = diffClosures(
      [
        { name: "musl", version: "1.2.3-r0", installedSize: 600 },
        { name: "jq", version: "1.6-r1", installedSize: 300 },
        { name: "curl", version: "7.0-r0", installedSize: 200 },
      ],
      [
        { name: "musl", version: "1.2.3-r0", installedSize: 600 },
        { name: "curl", version: "8.0-r0", installedSize: 250 },
        { name: "bash", version: "5.1-r0", installedSize: 1000 },
      ],
    );
    expect(diff.added).toEqual([
      { name: "bash", oldVersion: "", newVersion: "5.1-r0", installedSizeDelta: 1000 },
    ]);
    expect(diff.removed).toEqual([
      { name: "jq", oldVersion: "1.6-r1", newVersion: "", installedSizeDelta: -300 },
    ]);
    expect(diff.changed).toEqual([
      { name: "curl", oldVersion: "7.0-r0", newVersion: "8.0-r0", installedSizeDelta: 50 },
    ]);
    expect(diff.installedSizeDelta).toBe(750);
  });
});
