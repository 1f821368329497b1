import { describe, expect, it } from "vitest";
import { findFileConflicts } from "./file-conflicts.js";

describe("findFileConflicts", () => {
  it("names the path and both owners, skips unknown lists and allowed replacements", () => {
    const conflicts = findFileConflicts([
      { name: "a", version: "1-r0", files: ["usr/bin/tool", "usr/share/a"] },
      { name: "b", version: "2-r0", files: ["usr/bin/tool", "etc/motd"] },
      { name: "unknown", version: "1-r0", files: undefined },
      { name: "base", version: "1-r0", files: ["etc/motd", "etc/os-release"] },
      { name: "branding", version: "1-r0", replaces: ["base<2"], files: ["etc/os-release"] },
    ]);
    expect(conflicts).toEqual([
      { path: "etc/motd", packages: ["b-2-r0", "base-1-r0"] },
      { path: "usr/bin/tool", packages: ["a-1-r0", "b-2-r0"] },
    ]);
  });
});

describe("findFileConflicts as apk decides who may overwrite", () => {
  it("lets subpackages of one origin share a path, and still reports a third owner", () => {
    const conflicts = findFileConflicts([
      { name: "py3-foo", version: "1-r0", origin: "foo", files: ["usr/lib/foo.pth"] },
      { name: "foo-doc", version: "1-r0", origin: "foo", files: ["usr/lib/foo.pth"] },
    ]);
    expect(conflicts).toEqual([]);
    const three = findFileConflicts([
      { name: "a", version: "1-r0", files: ["usr/bin/tool"] },
      { name: "b", version: "1-r0", replaces: ["a"], files: ["usr/bin/tool"] },
      { name: "c", version: "1-r0", files: ["usr/bin/tool"] },
    ]);
    expect(three).toEqual([{ path: "usr/bin/tool", packages: ["a-1-r0", "b-1-r0", "c-1-r0"] }]);
  });
});
