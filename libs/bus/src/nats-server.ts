/**
 * Starts a private `nats-server` with JetStream, for the all-in-one launcher
 * (when no NATS answers) and for tests that need a server of their own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { delimiter, join } from "node:path";
import type { Logger } from "@tailor/log";
import { NatsServerError } from "./errors.js";

/** Options of {@link spawnNatsServer}. */
export interface SpawnNatsServerOptions {
  /** JetStream storage directory (created by the server if missing). */
  readonly storeDir: string;
  /**
   * Client port on 127.0.0.1.
   * @default a free port chosen by the server
   */
  readonly port?: number;
  /**
   * Path of the `nats-server` executable.
   * @default the first of PATH, /usr/sbin/nats-server, /usr/local/bin/nats-server
   */
  readonly binary?: string;
  /** Receives the server's log lines at debug level. */
  readonly logger?: Logger;
  /**
   * How long to wait for the server to accept connections.
   * @default 10_000
   */
  readonly startTimeoutMs?: number;
}

/** A running private `nats-server`. */
export interface NatsServerProcess {
  /** Client URL, e.g. `nats://127.0.0.1:43817`. */
  readonly url: string;
  /** Client port. */
  readonly port: number;
  /** Sends SIGTERM and resolves once the server exited (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

const wellKnownLocations = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"];

/** Path of an executable `nats-server`: first on PATH, then well-known locations. */
export function findNatsServerBinary(): string | undefined {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => join(dir, "nats-server"));
  return [...onPath, ...wellKnownLocations].find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Spawns `nats-server -a 127.0.0.1 -p PORT -js -sd storeDir` and resolves once
 * it accepts connections.
 * @throws {NatsServerError} when no binary is found, or the server exits or
 * does not become ready in time (the message includes its stderr).
 */
export async function spawnNatsServer(options: SpawnNatsServerOptions): Promise<NatsServerProcess> {
  const binary = options.binary ?? findNatsServerBinary();
  if (binary === undefined) {
    throw new NatsServerError(
      "nats-server not found on PATH, /usr/sbin or /usr/local/bin; install it or pass binary",
      "",
    );
  }
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  // -1 lets the server pick a free port itself, which avoids the race of
  // probing for a free port and binding it later.
  const portArgument = String(options.port ?? -1);
  const child = spawn(
    binary,
    ["-a", "127.0.0.1", "-p", portArgument, "-js", "-sd", options.storeDir],
    // Same process group on purpose: if the parent is killed outright, a
    // terminal's signals still end this server rather than orphan it. A
    // Ctrl-C may therefore stop it before the parent's services; Bus.close()
    // copes with a server that is already gone.
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = new OutputLog(child, options.logger);
  try {
    const port = await waitForListening(child, output, options.port, timeoutMs);
    await waitForTcp(port, child, output, timeoutMs);
    return {
      url: `nats://127.0.0.1:${port}`,
      port,
      stop: () => stopProcess(child),
    };
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
}

/** Keeps the server's recent output for error messages and forwards lines to the logger. */
class OutputLog {
  #text = "";
  #listeners = new Set<(line: string) => void>();

  constructor(child: ChildProcess, logger: Logger | undefined) {
    let partial = "";
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      // Only the tail matters for an error message; keep memory bounded.
      this.#text = (this.#text + text).slice(-8_000);
      // A line may arrive split across chunks: keep the unfinished end.
      const lines = (partial + text).split("\n");
      partial = (lines.pop() ?? "").slice(-8_000);
      for (const line of lines) {
        if (line.trim() === "") continue;
        logger?.debug({ component: "nats-server" }, line.trim());
        for (const listener of this.#listeners) listener(line);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  }

  get text(): string {
    return this.#text;
  }

  onLine(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function waitForListening(
  child: ChildProcess,
  output: OutputLog,
  requestedPort: number | undefined,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let port = requestedPort;
    const timer = setTimeout(() => {
      finish();
      reject(new NatsServerError(`nats-server did not start within ${timeoutMs} ms`, output.text));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish();
      reject(
        new NatsServerError(
          `nats-server exited during start (${signal ?? `code ${code}`})`,
          output.text,
        ),
      );
    };
    const onError = (error: Error): void => {
      finish();
      reject(
        new NatsServerError(`cannot run nats-server: ${error.message}`, output.text, {
          cause: error,
        }),
      );
    };
    const stopListening = output.onLine((line) => {
      const listening = /Listening for client connections on [^\s]+:(\d+)/.exec(line);
      if (listening?.[1] !== undefined) port = Number(listening[1]);
      if (line.includes("Server is ready") && port !== undefined) {
        finish();
        resolve(port);
      }
    });
    function finish(): void {
      clearTimeout(timer);
      stopListening();
      child.off("exit", onExit);
      child.off("error", onError);
    }
    child.on("exit", onExit);
    child.on("error", onError);
  });
}

/** The log says ready; a TCP connect proves the port answers before callers connect. */
async function waitForTcp(
  port: number,
  child: ChildProcess,
  output: OutputLog,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new NatsServerError(`nats-server exited during start`, output.text);
    }
    if (await acceptsConnections(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new NatsServerError(`nats-server did not accept connections on port ${port}`, output.text);
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed, so there is nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
