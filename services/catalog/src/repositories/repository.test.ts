import { describe, expect, it } from "vitest";
import { InvalidFieldError } from "./errors.js";
import { normaliseRepositoryUrl, validateTag } from "./repository.js";

describe("repository fields", () => {
  it("normalises upstream URLs so file names can be appended", () => {
    expect(normaliseRepositoryUrl("https://dl-cdn.alpinelinux.org/alpine/v3.19/main/")).toBe(
      "https://dl-cdn.alpinelinux.org/alpine/v3.19/main",
    );
    expect(normaliseRepositoryUrl("file:///srv/apk/")).toBe("file:///srv/apk");
    expect(normaliseRepositoryUrl("/srv/apk//")).toBe("/srv/apk");
    expect(() => normaliseRepositoryUrl("file://host/srv")).toThrow(InvalidFieldError);
    expect(() => normaliseRepositoryUrl("https://x.example/a?b=c")).toThrow(
      "must not have a query or fragment",
    );
  });

  it("keeps tags with their @", () => {
    expect(validateTag("edge")).toBe("@edge");
    expect(validateTag("@testing")).toBe("@testing");
    expect(validateTag("  ")).toBe("");
  });
});
