import { describe, expect, it } from "vitest";
import type { CatalogPackage } from "./package.js";
import {
  compareForListing,
  compareProviders,
  InvalidPageTokenError,
  newestVersions,
  pageOf,
} from "./package-listing.js";

const pkg = (
  name: string,
  version: string,
  more: Partial<CatalogPackage> = {},
): CatalogPackage => ({
  repository: "main",
  arch: "x86_64",
  name,
  version,
  checksum: "Q1",
  size: 0,
  installedSize: 0,
  description: "",
  url: "",
  license: "",
  origin: "",
  maintainer: "",
  buildTime: undefined,
  commit: "",
  providerPriority: undefined,
  depends: [],
  provides: [],
  installIf: [],
  blobDigest: undefined,
  via: "sync",
  ...more,
});

describe("package listing", () => {
  it("keeps the newest version by apk order, not by string order", () => {
    const newest = newestVersions([
      pkg("a", "1.9-r0"),
      pkg("a", "1.10-r0"),
      pkg("a", "1.10_rc1-r0"),
      pkg("b", "2-r0"),
    ]);
    expect(newest.map((p) => `${p.name}-${p.version}`).sort()).toEqual(["a-1.10-r0", "b-2-r0"]);
  });

  it("sorts providers: the package of that name, then priority, then version", () => {
    const sorted = [
      pkg("x", "9-r0"),
      pkg("cmd-sh", "1-r0"),
      pkg("y", "1-r0", { providerPriority: 10 }),
      pkg("z", "2-r0", { providerPriority: 10 }),
    ].sort(compareProviders("cmd-sh"));
    expect(sorted.map((p) => p.name)).toEqual(["cmd-sh", "z", "y", "x"]);
  });

  it("pages by position, so a page after an insert neither repeats nor skips", () => {
    const all = [pkg("a", "1-r0"), pkg("b", "1-r0"), pkg("c", "1-r0"), pkg("d", "1-r0")].sort(
      compareForListing,
    );
    const first = pageOf(all, "", 2);
    expect(first.packages.map((p) => p.name)).toEqual(["a", "b"]);
    const grown = [...all, pkg("aa", "1-r0")].sort(compareForListing);
    const second = pageOf(grown, first.nextToken, 2);
    expect(second.packages.map((p) => p.name)).toEqual(["c", "d"]);
    expect(second.nextToken).toBe("");
    expect(() => pageOf(all, "!!", 2)).toThrow(InvalidPageTokenError);
  });
});
