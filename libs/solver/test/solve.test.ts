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
});
