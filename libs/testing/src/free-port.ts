import { createServer } from "node:net";

/**
 * Ports handed out come from below Linux's ephemeral range (32768–60999), so
 * the outgoing connections tests make (Postgres, NATS, gRPC clients) can
 * never take a port between the moment it is picked and the moment its
 * server binds it.
 */
const LOWEST = 20_000;
const HIGHEST = 32_000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago and that this process
 * has not handed out before. Prefer listening on port 0 directly; use this
 * only when a port must be known before the server starts.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port between ${LOWEST} and ${HIGHEST} after 200 tries`);
}
