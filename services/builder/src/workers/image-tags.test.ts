import { describe, expect, it } from "vitest";
import { buildTags, compactTimestamp, versionTags } from "./image-tags.js";

describe("versionTags", () => {
  it("gives floating and exact tags of an apk version", () => {
    expect(versionTags("3.12.7-r1")).toEqual(["3.12", "3.12.7", "3.12.7-r1"]);
    expect(versionTags("1.36.1-r0")).toEqual(["1.36", "1.36.1", "1.36.1-r0"]);
    expect(versionTags("5.2-r3")).toEqual(["5.2", "5.2-r3"]);
    expect(versionTags("20240101")).toEqual(["20240101"]);
  });

  it("keeps versions with suffixes whole and drops what is not a tag", () => {
    expect(versionTags("3.13.0_rc1-r0")).toEqual(["3.13.0_rc1", "3.13.0_rc1-r0"]);
    expect(versionTags("")).toEqual([]);
    expect(versionTags("1.0+git-r0")).toEqual([]);
  });
});

describe("buildTags", () => {
  it("points plain tags at the image and -dev tags at the dev variant", () => {
    const tags = buildTags({
      imageDigest: "sha256:image",
      devDigest: "sha256:dev",
      version: "3.12.7-r1",
      uniqueAt: new Date("2026-11-28T09:08:07Z"),
    });
    expect(Object.fromEntries(tags.map((tag) => [tag.name, tag.digest]))).toEqual({
      latest: "sha256:image",
      "3.12": "sha256:image",
      "3.12.7": "sha256:image",
      "3.12.7-r1": "sha256:image",
      "3.12.7-r1-20261128090807": "sha256:image",
      "latest-dev": "sha256:dev",
      "3.12-dev": "sha256:dev",
      "3.12.7-dev": "sha256:dev",
      "3.12.7-r1-dev": "sha256:dev",
      "3.12.7-r1-20261128090807-dev": "sha256:dev",
    });
    expect(compactTimestamp(new Date("2026-01-02T03:04:05.678Z"))).toBe("20260102030405");
  });
});
