import { readFile } from "node:fs/promises";
import { compareVersions, isValidVersion, runVersionData } from "@tailor/apk";
import type { CommandIo } from "../io.js";
import { UsageError } from "../io.js";

/** Usage of `tailorctl apk version`. */
export const versionUsage = `usage:
  tailorctl apk version compare A B   print <, = or > (apk-tools ordering)
  tailorctl apk version check V...    exit 1 if any version is invalid
  tailorctl apk version test FILE     run a file in apk-tools' version.data format`;

/** `tailorctl apk version compare|check|test`. */
export async function versionCommand(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "compare": {
      if (rest.length !== 2) throw new UsageError("version compare takes exactly two versions");
      const order = compareVersions(rest[0] ?? "", rest[1] ?? "");
      io.out(order < 0 ? "<" : order > 0 ? ">" : "=");
      return 0;
    }
    case "check": {
      if (rest.length === 0) throw new UsageError("version check takes at least one version");
      let invalid = 0;
      for (const version of rest) {
        if (!isValidVersion(version)) {
          invalid++;
          io.err(`invalid version: ${version}`);
        }
      }
      return invalid === 0 ? 0 : 1;
    }
    case "test": {
      if (rest.length !== 1) throw new UsageError("version test takes one file");
      const file = rest[0] ?? "";
      const result = runVersionData(await readFile(file, "utf8"));
      for (const failure of result.failures) {
        io.err(
          `${file}:${failure.line}: ${failure.text}: expected ${failure.expected}, got ${failure.actual}`,
        );
      }
      io.out(`${result.passed} passed, ${result.failed} failed`);
      return result.failed === 0 ? 0 : 1;
    }
    default:
      throw new UsageError(
        sub === undefined ? "version needs a subcommand" : `unknown subcommand "${sub}"`,
      );
  }
}
