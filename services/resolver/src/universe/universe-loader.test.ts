import { describe, expect, it } from "vitest";
import { catalogEntryProblem } from "./universe-loader.js";

describe("catalogEntryProblem", () => {
  it("leaves out entries that would corrupt the universe, keeps apk's odd but installable versions", () => {
    const entry = { name: "opensmtpd", version: "6.8.0p2-r4", checksum: "Q1abc=", arch: "x86_64" };
    expect(catalogEntryProblem(entry)).toBeUndefined();
    // The solver merges equal checksums: an empty one would hide every other such entry.
    expect(catalogEntryProblem({ ...entry, checksum: "" })).toBe(
      "opensmtpd-6.8.0p2-r4: the entry has no checksum",
    );
    expect(catalogEntryProblem({ ...entry, name: "" })).toMatch(/not a valid apk name/);
    expect(catalogEntryProblem({ ...entry, name: "a b" })).toMatch(/not a valid apk name/);
    expect(catalogEntryProblem({ ...entry, version: "" })).toMatch(/no version/);
  });
});
