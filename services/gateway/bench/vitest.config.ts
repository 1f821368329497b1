// Vitest settings of the gateway benchmark (`npm run bench`), apart from the
// tests': only bench/**/*.bench-run.ts, which `npm test` never picks up (its
// include patterns are src/**/*.test.ts and test/**/*.test.ts), one file at
// a time, long timeouts, and console output straight to the terminal.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: path.dirname(path.dirname(fileURLToPath(import.meta.url))),
  test: {
    include: ["bench/**/*.bench-run.ts"],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    disableConsoleIntercept: true,
    reporters: ["default"],
  },
});
