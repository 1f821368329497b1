import { spawn } from "node:child_process";

/** A Node script running as a child process, with its output captured. */
export interface NodeProcess {
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends SIGTERM and measures how long the process takes to exit. */
  terminate(): Promise<{ code: number | null; ms: number }>;
  /** SIGKILLs it if it is still running (for `finally`). */
  kill(): void;
}

/** Runs `node <script>` with `env` added to this process's environment. */
export function startNodeProcess(
  script: string,
  env: Record<string, string | undefined>,
): NodeProcess {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    output: () => output,
    exited,
    async terminate() {
      const started = Date.now();
      child.kill("SIGTERM");
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
