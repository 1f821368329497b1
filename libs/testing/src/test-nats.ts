import { randomBytes } from "node:crypto";
import type { NatsConnection } from "nats";
import { connect } from "nats";
import { hasDockerEngine, startNatsContainer } from "./containers.js";
import { describeCause, TestServiceUnavailableError, withoutPassword } from "./errors.js";

/** A NATS server with JetStream plus a namespace no other test uses. */
export interface TestNats {
  /** NATS server URL. */
  url: string;
  /** `t` and 10 hex digits; the bus names its streams `${namespace.toUpperCase()}_…`. */
  namespace: string;
  /** Deletes every JetStream stream whose name starts with `${namespace.toUpperCase()}_`; safe to call twice. */
  cleanup(): Promise<void>;
}

const defaultUrl = "nats://127.0.0.1:4222";
const connectTimeoutMs = 5000;

async function connectWithJetStream(url: string): Promise<NatsConnection> {
  const connection = await connect({
    servers: url,
    timeout: connectTimeoutMs,
    reconnect: false,
    name: "tailor-test",
  });
  try {
    // Checks the JetStream API answers: a server started without -js does not.
    await connection.jetstreamManager();
    return connection;
  } catch (error) {
    await connection.close();
    throw new TestServiceUnavailableError(
      `NATS at ${withoutPassword(url)} answers but JetStream does not (${describeCause(error)}); start nats-server with -js`,
      { cause: error },
    );
  }
}

function configuredUrl(): { url: string; source: string; configured: boolean } {
  for (const name of ["TAILOR_TEST_NATS_URL", "NATS_URL"] as const) {
    const value = process.env[name];
    if (value !== undefined && value !== "")
      return { url: value, source: `from ${name}`, configured: true };
  }
  return {
    url: defaultUrl,
    source: "the default; set TAILOR_TEST_NATS_URL to use another server",
    configured: false,
  };
}

async function reachServer(): Promise<string> {
  const { url, source, configured } = configuredUrl();
  try {
    await (await connectWithJetStream(url)).close();
    return url;
  } catch (error) {
    if (error instanceof TestServiceUnavailableError) throw error;
    if (!configured && hasDockerEngine()) {
      try {
        const containerUrl = await startNatsContainer();
        await (await connectWithJetStream(containerUrl)).close();
        return containerUrl;
      } catch (containerError) {
        throw new TestServiceUnavailableError(
          `No NATS answered at ${withoutPassword(url)} (${source}): ${describeCause(error)}; starting a nats:2.10 container with testcontainers also failed: ${describeCause(containerError)}`,
          { cause: containerError },
        );
      }
    }
    throw new TestServiceUnavailableError(
      `No NATS answered at ${withoutPassword(url)} (${source}): ${describeCause(error)}. ` +
        "Start one with JetStream, e.g. `nats-server -js` or `docker run -d -p 4222:4222 nats:2.10 -js`, " +
        "or point TAILOR_TEST_NATS_URL at one.",
      { cause: error },
    );
  }
}

/**
 * Checks that the test NATS server (TAILOR_TEST_NATS_URL, else NATS_URL, else
 * nats://127.0.0.1:4222) answers with JetStream and hands out a fresh
 * namespace, so tests sharing the server never see each other's streams.
 */
export async function createTestNats(_options: Record<string, never> = {}): Promise<TestNats> {
  const url = await reachServer();
  const namespace = `t${randomBytes(5).toString("hex")}`;
  const prefix = `${namespace.toUpperCase()}_`;
  let cleaning: Promise<void> | undefined;
  return {
    url,
    namespace,
    cleanup() {
      cleaning ??= deleteStreams(url, prefix);
      return cleaning;
    },
  };
}

async function deleteStreams(url: string, prefix: string): Promise<void> {
  const connection = await connectWithJetStream(url);
  try {
    const manager = await connection.jetstreamManager();
    const doomed: string[] = [];
    for await (const name of manager.streams.names()) {
      if (name.startsWith(prefix)) doomed.push(name);
    }
    for (const name of doomed) await manager.streams.delete(name);
  } finally {
    await connection.close();
  }
}
