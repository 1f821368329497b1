import { describe, expect, it } from "vitest";
import type { UniversePackage } from "../src/index.js";
import { createUniverse, formatInstallOutput, solve } from "../src/index.js";

let serial = 0;
/** A package with a unique checksum; `spec` is "name-version". */
function pkg(spec: string, fields: Partial<UniversePackage> = {}): UniversePackage {
  const at = spec.lastIndexOf("-");
  serial++;
  return {
    name: spec.slice(0, at),
    version: spec.slice(at + 1),
    arch: "x86_64",
    repository: "main",
    checksum: `Q1${String(serial).padStart(6, "0")}${"A".repeat(21)}=`,
    size: 10,
    installedSize: 100,
    depends: [],
    provides: [],
    installIf: [],
    ...fields,
  };
}

const installed = (result: ReturnType<typeof solve>) =>
  result.ok ? result.packages.map((p) => `${p.name}-${p.version}`) : result.text;

describe("solve", () => {
  it("installs dependencies before dependents, highest versions, and prints apk's lines", () => {
    const universe = createUniverse([
      pkg("app-1", { depends: ["lib>=1"] }),
      pkg("app-2", { depends: ["lib>=2", "so:libc.so"] }),
      pkg("lib-1"),
      pkg("lib-2"),
      pkg("musl-1", { provides: ["so:libc.so=1"] }),
    ]);
    const result = solve(universe, { world: ["app"], arch: "x86_64" });
    expect(installed(result)).toEqual(["lib-2", "musl-1", "app-2"]);
    expect(formatInstallOutput(result)).toBe(
      "(1/3) Installing lib (2)\n(2/3) Installing musl (1)\n(3/3) Installing app (2)\nOK: 300 B in 3 packages",
    );
  });

  it("chooses a virtual provider by provider_priority, and refuses to guess without one", () => {
    const withPriority = createUniverse([
      pkg("busybox-binsh-1", { provides: ["/bin/sh"], providerPriority: 100 }),
      pkg("dash-binsh-1", { provides: ["/bin/sh"], providerPriority: 60 }),
    ]);
    expect(installed(solve(withPriority, { world: ["/bin/sh"], arch: "x86_64" }))).toEqual([
      "busybox-binsh-1",
    ]);
    const without = createUniverse([
      pkg("a-1", { provides: ["mailer"] }),
      pkg("b-1", { provides: ["mailer"] }),
      pkg("app-1", { depends: ["mailer"] }),
    ]);
    const result = solve(without, { world: ["app"], arch: "x86_64" });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.text).toContain("mailer (virtual):");
      expect(result.problems[0]?.kind).toBe("virtual");
    }
    // naming a provider explicitly settles it
    expect(installed(solve(without, { world: ["app", "b"], arch: "x86_64" }))).toEqual([
      "b-1",
      "app-1",
    ]);
  });

  it("installs install_if packages when all their conditions are installed", () => {
    const universe = createUniverse([
      pkg("bash-1"),
      pkg("docs-1"),
      pkg("bash-doc-1", { installIf: ["bash", "docs"] }),
    ]);
    expect(installed(solve(universe, { world: ["bash"], arch: "x86_64" }))).toEqual(["bash-1"]);
    expect(installed(solve(universe, { world: ["bash", "docs"], arch: "x86_64" }))).toEqual([
      "bash-1",
      "docs-1",
      "bash-doc-1",
    ]);
  });

  it("reports conflicts in apk's words", () => {
    const universe = createUniverse([pkg("a-1", { depends: ["!b"] }), pkg("b-1")]);
    const result = solve(universe, { world: ["a", "b"], arch: "x86_64" });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.text).toBe(
        "ERROR: unable to select packages:\n  b-1:\n    breaks: a-1[!b]\n    satisfies: world[b]",
      );
    }
  });

  it("takes tagged repositories only for atoms pinned @tag", () => {
    const universe = createUniverse([
      pkg("a-1"),
      pkg("a-2", { repository: "testing", tag: "testing" }),
    ]);
    expect(installed(solve(universe, { world: ["a"], arch: "x86_64" }))).toEqual(["a-1"]);
    const tagged = solve(universe, { world: ["a@testing"], arch: "x86_64" });
    expect(installed(tagged)).toEqual(["a-2"]);
    expect(formatInstallOutput(tagged)).toContain("Installing a@testing (2)");
  });

  it("never installs another arch, and says so", () => {
    const universe = createUniverse([
      pkg("tool-1", { arch: "aarch64" }),
      pkg("data-1", { arch: "noarch" }),
    ]);
    expect(installed(solve(universe, { world: ["data"], arch: "x86_64" }))).toEqual(["data-1"]);
    const result = solve(universe, { world: ["tool"], arch: "x86_64" });
    expect(result.ok ? "" : result.text).toContain("arch: aarch64");
  });

  it("keeps pinned packages at their version and names the pin when the world needs another", () => {
    const universe = createUniverse([
      pkg("openssl-3.1"),
      pkg("openssl-3.3"),
      pkg("curl-8", { depends: ["openssl>=3.3"] }),
      pkg("wget-1", { depends: ["openssl"] }),
    ]);
    const ok = solve(universe, {
      world: ["wget"],
      arch: "x86_64",
      pinned: [{ name: "openssl", version: "3.1" }],
    });
    expect(ok.ok && ok.packages.map((p) => [`${p.name}-${p.version}`, p.pinned])).toEqual([
      ["openssl-3.1", true],
      ["wget-1", false],
    ]);
    const bad = solve(universe, {
      world: ["curl"],
      arch: "x86_64",
      pinned: [{ name: "openssl", version: "3.1" }],
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.text).toContain("pinned[openssl=3.1]");
  });

  it("never chooses a package the allow predicate refuses, and names it", () => {
    const universe = createUniverse([pkg("free-1", { depends: ["paid"] }), pkg("paid-1")]);
    const result = solve(universe, {
      world: ["free"],
      arch: "x86_64",
      allow: (p) => p.name !== "paid",
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.text).toContain("paid-1:\n    error: not entitled");
      expect(result.problems.some((p) => p.package === "paid-1" && p.kind === "not entitled")).toBe(
        true,
      );
    }
  });

  it("backtracks to an older version when the newest one dead-ends", () => {
    // x-2 needs y-2, which conflicts with z; apk's single pass picks x-2 first.
    const universe = createUniverse([
      pkg("x-1", { depends: ["y"] }),
      pkg("x-2", { depends: ["y>=2"] }),
      pkg("y-1"),
      pkg("y-2", { depends: ["!z"] }),
      pkg("z-1"),
      pkg("top-1", { depends: ["x", "z"] }),
    ]);
    const plain = solve(universe, { world: ["top"], arch: "x86_64", backtrack: false });
    const result = solve(universe, { world: ["top"], arch: "x86_64" });
    if (!plain.ok) {
      expect(result.ok && result.backtracked).toBe(true);
    }
    expect(installed(result)).toEqual(["y-1", "x-1", "z-1", "top-1"]);
  });

  it("is deterministic", () => {
    const packages = [
      pkg("a-1", { depends: ["b", "c"] }),
      pkg("b-1", { depends: ["d"] }),
      pkg("c-1", { depends: ["d"] }),
      pkg("d-1"),
      pkg("d-2"),
    ];
    const first = formatInstallOutput(
      solve(createUniverse(packages), { world: ["a"], arch: "x86_64" }),
    );
    for (let i = 0; i < 5; i++) {
      expect(
        formatInstallOutput(solve(createUniverse(packages), { world: ["a"], arch: "x86_64" })),
      ).toBe(first);
    }
  });

  it("gives each solve of one universe the answer a fresh universe gives, whatever ran before", () => {
    const packages = [
      pkg("app-1", { depends: ["lib", "so:libc.so"] }),
      pkg("lib-1", { provides: ["so:libc.so=1"] }),
      pkg("lib-2", { depends: ["missing"], provides: ["so:libc.so=2"] }),
      pkg("tool-1", { depends: ["lib=1"] }),
      pkg("bash-1"),
      pkg("bash-doc-1", { installIf: ["bash", "docs"] }),
      pkg("docs-1"),
      pkg("paid-1"),
    ];
    const requests: Parameters<typeof solve>[1][] = [
      { world: ["app"], arch: "x86_64" },
      { world: ["app", "paid"], arch: "x86_64", allow: (p) => p.name !== "paid" },
      { world: ["tool", "lib>1"], arch: "x86_64", backtrack: false },
      { world: ["nosuch", "bash", "docs"], arch: "x86_64" },
      { world: ["bash", "docs"], arch: "x86_64", pinned: [{ name: "lib", version: "1" }] },
      { world: ["app"], arch: "aarch64" },
      { world: ["app", "tool"], arch: "x86_64", forceBrokenWorld: true },
    ];
    const fresh = requests.map((request) =>
      formatInstallOutput(solve(createUniverse(packages), request)),
    );
    const shared = createUniverse(packages);
    for (const order of [requests, [...requests].reverse(), [...requests, ...requests]]) {
      const outputs = order.map((request) => formatInstallOutput(solve(shared, request)));
      expect(outputs).toEqual(order.map((request) => fresh[requests.indexOf(request)]));
    }
    // an entitlement predicate that solves again on the same universe mid-solve
    let inner = "";
    const reentrant = solve(shared, {
      world: ["app"],
      arch: "x86_64",
      allow: (p) => {
        if (inner === "")
          inner = formatInstallOutput(solve(shared, { world: ["bash", "docs"], arch: "x86_64" }));
        return p.name !== "paid";
      },
    });
    expect(formatInstallOutput(reentrant)).toBe(fresh[0]);
    expect(inner).toBe(
      formatInstallOutput(
        solve(createUniverse(packages), { world: ["bash", "docs"], arch: "x86_64" }),
      ),
    );
    expect(fresh.filter((text) => text.startsWith("ERROR")).length).toBeGreaterThanOrEqual(2);
  });

  it("rejects invalid world atoms as apk does", () => {
    const result = solve(createUniverse([]), { world: ["foo=="], arch: "x86_64" });
    expect(result.ok ? "" : result.text).toBe(
      "ERROR: 'foo==' is not a valid world dependency, format is name(@tag)([<>~=]version)",
    );
  });

  it("holds any number of repositories, keeping repository order and tag pinning", () => {
    // 100 repositories, every 10th tagged (5 tags, repeated), given in reverse order
    // of preference with explicit priorities: r0 is the most preferred.
    const repo = (i: number): Partial<UniversePackage> => ({
      repository: `r${i}`,
      repositoryPriority: i,
      ...(i % 10 === 9 ? { tag: `t${Math.floor(i / 10) % 5}` } : {}),
    });
    const packages: UniversePackage[] = [];
    for (let i = 99; i >= 0; i--) packages.push(pkg(`filler${i}-1`, repo(i)));
    // the same version in several repositories, each its own build: the most preferred wins
    packages.push(pkg("a-1", repo(80)), pkg("a-1", repo(61)), pkg("a-1", repo(95)));
    // one build (same checksum) found in many repositories, tagged ones included:
    // the first one given describes it
    const shared = pkg("s-1", repo(70));
    packages.push(shared);
    for (const i of [99, 64, 33, 89]) packages.push({ ...shared, ...repo(i) });
    // a newer version only in tagged repositories: only for b@tag
    packages.push(pkg("b-1", repo(45)), pkg("b-2", repo(99)), pkg("b-3", repo(49)));
    const universe = createUniverse(packages);
    expect(universe.repositories.length).toBe(100);
    expect(universe.repositories[0]).toEqual({ name: "r0" });
    expect(universe.repositories[99]).toEqual({ name: "r99", tag: "t4" });

    const one = (world: string[]) => {
      const result = solve(universe, { world, arch: "x86_64" });
      if (!result.ok) return result.text;
      return result.packages.map(
        (p) => `${p.name}-${p.version}:${p.repository}${p.installTag ? `@${p.installTag}` : ""}`,
      );
    };
    expect(one(["a"])).toEqual(["a-1:r61"]);
    expect(one(["s"])).toEqual(["s-1:r70"]);
    expect(one(["b"])).toEqual(["b-1:r45"]);
    expect(one(["b@t4"])).toEqual(["b-3:r49@t4"]);
    expect(one(["b@t4", "a"])).toEqual(["a-1:r61", "b-3:r49@t4"]);
    expect(one(["b@t0"])).toEqual(["b-1:r45"]);
    expect(one(["filler99"])).toEqual(
      "ERROR: unable to select packages:\n  filler99-1:\n    masked in: @t4\n    satisfies: world[filler99]",
    );
    expect(one(["filler99@t4"])).toEqual(["filler99-1:r99@t4"]);
    expect(one(["b@nosuch"])).toContain(
      "WARNING: The repository tag for world dependency 'b@nosuch' does not exist",
    );
    // as many solves as repositories: all give the same answers as a universe
    // of the few repositories that matter
    const small = createUniverse(
      packages.filter((p) => ["r45", "r49", "r61", "r80", "r95", "r99"].includes(p.repository)),
    );
    for (const world of [["a"], ["b"], ["b@t4"], ["b@t4", "a"], ["filler99"]]) {
      expect(formatInstallOutput(solve(universe, { world, arch: "x86_64" }))).toBe(
        formatInstallOutput(solve(small, { world, arch: "x86_64" })),
      );
    }
  });

  it("takes any of more than 31 tags, and refuses a world naming more than 31 of them", () => {
    const packages = Array.from({ length: 40 }, (_, i) =>
      pkg(`p${i}-1`, { repository: `tagged${i}`, tag: `t${i}` }),
    );
    packages.push(pkg("p39-0", { repository: "main" }));
    const universe = createUniverse(packages);
    expect(installed(solve(universe, { world: ["p39"], arch: "x86_64" }))).toEqual(["p39-0"]);
    const tagged = solve(universe, { world: ["p39@t39", "p2@t2"], arch: "x86_64" });
    expect(tagged.ok && tagged.packages.map((p) => `${p.name}@${p.installTag}`)).toEqual([
      "p2@t2",
      "p39@t39",
    ]);
    const all = solve(universe, {
      world: packages.map((p) => `${p.name}@t${p.name.slice(1)}`),
      arch: "x86_64",
    });
    expect(all.ok ? "" : all.text).toBe(
      "ERROR: the world names 40 repository tags, at most 31 are supported",
    );
  });

  it("never merges packages without a checksum", () => {
    const universe = createUniverse([
      pkg("one-1", { checksum: "" }),
      pkg("two-1", { checksum: "", depends: ["one"] }),
      pkg("two-1", { checksum: "", repository: "other" }),
    ]);
    expect(universe.size).toBe(3);
    expect(installed(solve(universe, { world: ["two"], arch: "x86_64" }))).toEqual([
      "one-1",
      "two-1",
    ]);
    expect(installed(solve(universe, { world: ["one"], arch: "x86_64" }))).toEqual(["one-1"]);
  });
});
