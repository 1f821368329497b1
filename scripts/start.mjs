// `npm start`: build what is stale, then run every service in this process.
// One incremental `tsc -b` over the project references builds all workspaces
// in a few seconds (and in about one when nothing changed).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = path.join(root, "node_modules", ".bin", "tsc");
const build = spawnSync(tsc, ["-b", "deploy/all-in-one/tsconfig.build.json"], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
if (build.status !== 0) {
  console.error("tailor: build failed; see the errors above (is `npm ci` done?)");
  process.exit(build.status ?? 1);
}
await import("../deploy/all-in-one/dist/cli.js");
