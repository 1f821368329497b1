// `npm start`: build what is stale (turbo's cache makes this quick when
// nothing changed), then run every service in this process.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
process.env.TURBO_TELEMETRY_DISABLED ??= "1";
const build = spawnSync(
  "npx",
  [
    "--no-install",
    "turbo",
    "run",
    "build",
    "--filter=@tailor/all-in-one...",
    "--output-logs=errors-only",
    "--log-prefix=none",
  ],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
);
if (build.status !== 0) {
  console.error("tailor: build failed; see the errors above");
  process.exit(build.status ?? 1);
}
await import("../deploy/all-in-one/dist/cli.js");
