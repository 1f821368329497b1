import path from "node:path";
import { findNatsServerBinary, spawnNatsServer } from "@tailor/bus";
import type { Logger } from "@tailor/log";
import { connect } from "nats";

/** Where the all-in-one gets NATS from, and how to let go of it. */
export interface ResolvedNats {
  readonly url: string;
  /** "configured" (NATS_URL), "local" (127.0.0.1:4222 answered) or "child" (we started nats-server). */
  readonly source: "configured" | "local" | "child";
  stop(): Promise<void>;
}

/** No usable NATS: the message says what to install or set. */
export class NatsUnavailableError extends Error {
  override readonly name = "NatsUnavailableError";
}

/** The usual local NATS address, tried when NATS_URL is unset. */
export const LOCAL_NATS_URL = "nats://127.0.0.1:4222";

/** Resolves whether a NATS server answers at `url` with JetStream enabled. */
async function probe(url: string): Promise<"ok" | "no-jetstream" | "down"> {
  let nc: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    nc = await connect({
      servers: url,
      timeout: 1000,
      maxReconnectAttempts: 0,
      name: "tailor-probe",
    });
  } catch {
    return "down";
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout: 1000 });
    await jsm.getAccountInfo();
    return "ok";
  } catch {
    return "no-jetstream";
  } finally {
    await nc.close();
  }
}

/**
 * NATS_URL when set; else nats://127.0.0.1:4222 if it answers with
 * JetStream; else a nats-server child with its store under the data dir.
 */
export async function resolveNats(options: {
  configuredUrl: string | undefined;
  dataDir: string;
  logger: Logger;
  /** The local address tried when none is configured. @default LOCAL_NATS_URL */
  localUrl?: string;
}): Promise<ResolvedNats> {
  const localUrl = options.localUrl ?? LOCAL_NATS_URL;
  const none = async () => undefined;
  if (options.configuredUrl !== undefined) {
    const state = await probe(options.configuredUrl);
    if (state !== "ok") {
      throw new NatsUnavailableError(
        state === "down"
          ? `NATS_URL=${options.configuredUrl} does not answer; start that server or unset NATS_URL to let Tailor start one`
          : `NATS_URL=${options.configuredUrl} answers but JetStream is disabled; start nats-server with -js`,
      );
    }
    return { url: options.configuredUrl, source: "configured", stop: none };
  }
  const local = await probe(localUrl);
  if (local === "ok") return { url: localUrl, source: "local", stop: none };
  if (local === "no-jetstream") {
    options.logger.warn(`${localUrl} answers without JetStream; starting a private nats-server`);
  }
  const binary = findNatsServerBinary();
  if (binary === undefined) {
    throw new NatsUnavailableError(
      `no NATS server: NATS_URL is unset, nothing answers at ${localUrl}, and no nats-server ` +
        "binary is on PATH or in /usr/sbin. Install one (Debian/Ubuntu: `apt-get install nats-server`; " +
        "macOS: `brew install nats-server`; or a release from nats.io) or set NATS_URL to a server started with -js.",
    );
  }
  const child = await spawnNatsServer({
    storeDir: path.resolve(options.dataDir, "nats"),
    binary,
    logger: options.logger,
  });
  return { url: child.url, source: "child", stop: () => child.stop() };
}
