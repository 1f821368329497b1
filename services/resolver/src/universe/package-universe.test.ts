import { createUniverse, solve } from "@tailor/solver";
import { describe, expect, it } from "vitest";
import type { KnownPackage } from "./known-package.js";
import { createPackageUniverse } from "./package-universe.js";

function known(
  name: string,
  version: string,
  arch = "x86_64",
  extra: Partial<KnownPackage["pkg"]> = {},
): KnownPackage {
  const repository = extra.repository ?? "main";
  return {
    key: `${repository}/${arch}/${name}-${version}`,
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
      ...extra,
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

  it("keeps a package published while a full load was reading the catalog", async () => {
    const universe = createPackageUniverse({ minRebuildIntervalMs: 0 });
    universe.replaceAll([known("a", "1-r0")]);
    // A periodic reload starts and reads the catalog (a-1 only) …
    const ticket = universe.beginLoad();
    const staleRead = [known("a", "1-r0")];
    // … while the event for a-2 arrives and is applied.
    universe.upsert(known("a", "2-r0"));
    await universe.settled();
    expect(universe.snapshot("x86_64")?.packageCount).toBe(2);
    universe.replaceAll(staleRead, ticket);
    ticket.end();
    const versions = universe
      .snapshot("x86_64")
      ?.byName.get("a")
      ?.map((k) => k.pkg.version);
    expect(versions?.sort()).toEqual(["1-r0", "2-r0"]);
    // A later load without the package (removed by a sync) does drop it.
    const next = universe.beginLoad();
    universe.replaceAll(staleRead, next);
    next.end();
    expect(universe.snapshot("x86_64")?.packageCount).toBe(1);
    universe.close();
  });

  it("survives a universe that does not compile: the previous snapshot stays, nothing throws", async () => {
    const failures: string[] = [];
    // A universe the solver refuses to build: any package named "poison" makes compiling throw.
    const universe = createPackageUniverse({
      minRebuildIntervalMs: 0,
      onRebuildFailed: (arch) => failures.push(arch),
      compile: (packages) => {
        if (packages.some((pkg) => pkg.name === "poison")) throw new RangeError("cannot compile");
        return createUniverse(packages);
      },
    });
    universe.replaceAll([known("a", "1-r0")]);
    universe.upsert(known("poison", "1-r0", "x86_64"));
    await universe.settled();
    expect(failures).toEqual(["x86_64"]);
    expect(universe.snapshot("x86_64")?.packageCount).toBe(1);
    expect(() => universe.replaceAll([known("poison", "1-r0", "aarch64")])).toThrow(
      /cannot compile/,
    );
    expect(universe.arches()).toEqual(["x86_64"]);
    universe.close();
  });

  it("answers the same whether a package came from a full load or from an event", async () => {
    const liba = known("liba", "1.0-r0", "x86_64", { provides: ["so:libx.so.1=1.0"] });
    const libb = known("libb", "1.0-r0", "x86_64", { provides: ["so:libx.so.1=1.0"] });
    const app = known("app", "1-r0", "x86_64", { depends: ["so:libx.so.1"] });
    const chosen = (universe: ReturnType<typeof createPackageUniverse>) => {
      const snapshot = universe.snapshot("x86_64");
      if (snapshot === undefined) throw new Error("no snapshot");
      const result = solve(snapshot.universe, { world: ["app"], arch: "x86_64" });
      return result.ok ? result.packages.map((pkg) => pkg.name) : result.text;
    };
    const loaded = createPackageUniverse();
    loaded.replaceAll([liba, libb, app]);
    const evented = createPackageUniverse({ minRebuildIntervalMs: 0 });
    evented.replaceAll([libb, app]);
    evented.upsert(liba);
    await evented.settled();
    expect(chosen(evented)).toEqual(chosen(loaded));
    loaded.close();
    evented.close();
  });
});
