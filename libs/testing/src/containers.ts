import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Whether a Docker-compatible engine looks reachable: DOCKER_HOST is set or one
 * of the usual sockets exists. A cheap check, so testcontainers (heavy) is only
 * loaded when it can work.
 */
export function hasDockerEngine(): boolean {
  if (process.env.DOCKER_HOST !== undefined && process.env.DOCKER_HOST !== "") return true;
  const uid = process.getuid?.();
  const sockets = [
    "/var/run/docker.sock",
    join(homedir(), ".docker", "run", "docker.sock"),
    join(homedir(), ".docker", "desktop", "docker.sock"),
    join(homedir(), ".colima", "default", "docker.sock"),
    ...(uid === undefined ? [] : [`/run/user/${uid}/docker.sock`]),
  ];
  return sockets.some((socket) => existsSync(socket));
}

// One container per test process, started on first need: starting one per
// test would take seconds each. testcontainers' reaper removes it on exit.
let postgresContainer: Promise<string> | undefined;
let natsContainer: Promise<string> | undefined;

/** Starts (once per process) a postgres:16 container with trust auth; resolves to its admin URL. */
export function startPostgresContainer(): Promise<string> {
  postgresContainer ??= (async () => {
    const { GenericContainer, Wait } = await import("testcontainers");
    const container = await new GenericContainer("postgres:16")
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
      .withExposedPorts(5432)
      // The entrypoint starts Postgres twice (init, then for real); wait for the second.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  })().catch((error: unknown) => {
    postgresContainer = undefined;
    throw error;
  });
  return postgresContainer;
}

/** Starts (once per process) a nats:2.10 container with JetStream; resolves to its URL. */
export function startNatsContainer(): Promise<string> {
  natsContainer ??= (async () => {
    const { GenericContainer, Wait } = await import("testcontainers");
    const container = await new GenericContainer("nats:2.10")
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    return `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
  })().catch((error: unknown) => {
    natsContainer = undefined;
    throw error;
  });
  return natsContainer;
}
