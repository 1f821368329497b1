import { describe, expect, it } from "vitest";
import type { KnownPackage } from "./known-package.js";
import { createPackageUniverse } from "./package-universe.js";

function known(name: string, version: string, arch = "x86_64"): KnownPackage {
  return {
    key: `main/${arch}/${name}-${version}`,
    arch,
    endOfLife: false,
    description: "",
    pkg: {
      name,
      version,
      arch,
      repository: "main",
      checksum: `Q1${name}${version}`,
      size: 1,
      installedSize: 1,
      depends: [],
      provides: [],
      installIf: [],
    },
  };
}

describe("package universe", () => {
  it("is ready after a full load and coalesces a burst of upserts into one rebuild", async () => {
    const rebuilt: string[] = [];
    const universe = createPackageUniverse({
      minRebuildIntervalMs: 50,
      onRebuilt: (snapshot) => rebuilt.push(snapshot.arch),
    });
    expect(universe.ready).toBe(false);
    universe.replaceAll([known("a", "1-r0"), known("b", "1-r0", "aarch64")]);
    expect(universe.ready).toBe(true);
    expect(universe.arches()).toEqual(["aarch64", "x86_64"]);
    const first = universe.snapshot("x86_64");
    rebuilt.length = 0;
    for (let i = 1; i <= 20; i++) universe.upsert(known("a", `${i + 1}-r0`));
    await universe.settled();
    expect(rebuilt).toEqual(["x86_64"]);
    const next = universe.snapshot("x86_64");
    expect(next?.packageCount).toBe(21);
    expect(next?.generation).toBeGreaterThan(first?.generation ?? 0);
    expect(universe.snapshot("aarch64")?.packageCount).toBe(1);
    universe.close();
  });
});
