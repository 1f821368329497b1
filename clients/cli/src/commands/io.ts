/** Where a command writes: process streams in tailorctl, buffers in tests. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** A command: arguments after its name in, exit code out. */
export type Command = (args: string[], io: CommandIo) => Promise<number>;

/** Thrown for wrong usage; tailorctl prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** CommandIo writing to the process's stdout and stderr. */
export const processIo: CommandIo = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};
