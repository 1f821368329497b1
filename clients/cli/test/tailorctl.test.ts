// tailorctl as a user runs it: the built binary, its output and exit codes.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

function tailorctl(...args: string[]) {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: "utf8" });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe("tailorctl", () => {
  it("prints usage listing the apk commands", () => {
    const result = tailorctl("--help");
    expect(result.code).toBe(0);
    expect(result.out).toContain("tailorctl apk verify --keys DIR FILE...");
  });

  it("runs apk subcommands with their exit codes", () => {
    expect(tailorctl("apk", "version", "compare", "1.10", "1.9").out.trim()).toBe(">");
    const invalid = tailorctl("apk", "version", "check", "1..2");
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain("invalid version: 1..2");
  });

  it("exits 2 with usage on a wrong command", () => {
    const result = tailorctl("apk", "frobnicate");
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown command "frobnicate"');
  });
});
