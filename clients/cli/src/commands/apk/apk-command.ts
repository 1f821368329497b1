import { ApkError } from "@tailor/apk";
import type { Command, CommandIo } from "../io.js";
import { UsageError } from "../io.js";
import { indexCommand, indexUsage } from "./index-command.js";
import { inspectCommand, inspectUsage } from "./inspect-command.js";
import { resolveCommand, resolveUsage } from "./resolve-command.js";
import { verifyCommand, verifyUsage } from "./verify-command.js";
import { versionCommand, versionUsage } from "./version-command.js";

/** Usage of `tailorctl apk`. */
export const apkUsage = `tailorctl apk: offline APK tools
  ${inspectUsage}
  ${verifyUsage}
  ${indexUsage}
  ${resolveUsage}
${versionUsage.replace(/^usage:\n/, "")}`;

const subcommands: Record<string, Command> = {
  inspect: inspectCommand,
  verify: verifyCommand,
  index: indexCommand,
  resolve: resolveCommand,
  version: versionCommand,
};

/**
 * `tailorctl apk …`: runs the subcommand; bad input becomes one line naming
 * the file, entry and problem (exit 1), wrong usage the usage text (exit 2).
 */
export async function apkCommand(args: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = args;
  const command = name === undefined ? undefined : subcommands[name];
  if (command === undefined) {
    io.err(
      name === undefined ? apkUsage : `tailorctl apk: unknown command "${name}"\n\n${apkUsage}`,
    );
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      io.err(`tailorctl apk ${name}: ${(error as Error).message}\n\n${apkUsage}`);
      return 2;
    }
    if (error instanceof ApkError) {
      io.err(`tailorctl apk ${name}: ${error.message}`);
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
      io.err(`tailorctl apk ${name}: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}
