// Vitest settings shared by every workspace. In CI each workspace also writes
// a JSON report to .ci/results/, which scripts/test-summary.mjs adds up.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

/** Vitest config for the workspace whose vitest.config.ts passes its import.meta.url. */
export function tailorVitestConfig(configUrl: string) {
  const dir = path.dirname(fileURLToPath(configUrl));
  const name = path.relative(root, dir).replace(/[\\/]/g, "-");
  const ci = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";
  return defineConfig({
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ci ? ["default", "json"] : ["default"],
      ...(ci ? { outputFile: { json: path.join(root, ".ci/results", `${name}.json`) } } : {}),
    },
  });
}
