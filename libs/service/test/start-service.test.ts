// startService's lifecycle on real NATS and an in-memory PGlite: what an
// operator sees when a service fails to start or is stopped.

import { randomBytes } from "node:crypto";
import net from "node:net";
import type { PlatformConfig } from "@tailor/config";
import { loadPlatformConfig } from "@tailor/config";
import type { Database } from "@tailor/db";
import { createDatabase, sql } from "@tailor/db";
import type { ServiceImpl } from "@tailor/grpc";
import { Code, TailorError } from "@tailor/grpc";
import { createSilentLogger } from "@tailor/log";
import { builderV1 } from "@tailor/proto";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDefinition } from "../src/index.js";
import { createProcessDependencies, createServiceClients, startService } from "../src/index.js";

const natsUrl = process.env.TAILOR_TEST_NATS_URL ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const namespace = `t${randomBytes(5).toString("hex")}`;
const logger = createSilentLogger();
let database: Database;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function config(): Promise<PlatformConfig> {
  return loadPlatformConfig({
    NATS_URL: natsUrl,
    TAILOR_NATS_NAMESPACE: namespace,
    TAILOR_CATALOG_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    TAILOR_SHUTDOWN_GRACE_MS: "200",
  });
}

async function deps() {
  return createProcessDependencies(await config(), logger, {
    processName: "catalog",
    natsUrl,
    database,
  });
}

beforeAll(async () => {
  database = await createDatabase({ dataDir: "memory://", logger });
});

afterAll(async () => {
  await database?.close();
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  for await (const stream of jsm.streams.list()) {
    if (stream.config.name.startsWith(`${namespace.toUpperCase()}_`)) {
      await jsm.streams.delete(stream.config.name);
    }
  }
  await nc.close();
});

describe("startService", () => {
  it("serves its handlers, then stops once however often stop is called", async () => {
    let stops = 0;
    const definition: ServiceDefinition = {
      name: "catalog",
      schema: "catalog_lifecycle",
      start({ grpc }) {
        // Only GetServiceInfo answers; every other method of the service is UNIMPLEMENTED.
        const unimplemented = Object.fromEntries(
          builderV1.BuilderService.methods.map((method) => [
            method.localName,
            () => {
              throw new TailorError(Code.UNIMPLEMENTED, `${method.name} is not part of this test`);
            },
          ]),
        ) as unknown as ServiceImpl<typeof builderV1.BuilderService>;
        grpc.add(builderV1.BuilderService, {
          ...unimplemented,
          getServiceInfo: () => ({ info: { name: "catalog", version: "9.9.9", instance: "x" } }),
        });
        return {
          info: { note: "hello" },
          stop: async () => {
            stops++;
          },
        };
      },
    };
    const d = await deps();
    const running = await startService(definition, d);
    expect(running.info).toEqual({ note: "hello" });
    const clients = createServiceClients(d.config, logger);
    const reply = await clients.get("catalog", builderV1.BuilderService).getServiceInfo({});
    expect(reply.info?.version).toBe("9.9.9");
    expect((await clients.health("catalog", 1000)).status).toBe("SERVING");
    await Promise.all([running.stop(), running.stop()]);
    await running.stop();
    expect(stops).toBe(1);
    expect(await canBind(running.port)).toBe(true);
    const after = await clients.health("catalog", 500);
    expect(after.status).toBe("UNREACHABLE");
    expect(after.error).toBeTruthy();
    clients.close();
  });

  it("reports a failing start and releases its port", async () => {
    const definition: ServiceDefinition = {
      name: "catalog",
      start() {
        throw new Error("catalog cannot start: repository list unreadable");
      },
    };
    const d = await deps();
    await expect(startService(definition, d)).rejects.toThrow("repository list unreadable");
    expect(await canBind(Number(d.config.catalogAddress.split(":")[1]))).toBe(true);
  });

  it("refuses to start when a migration fails, naming it, and keeps earlier ones", async () => {
    const definition: ServiceDefinition = {
      name: "catalog",
      schema: "catalog_broken",
      migrations: {
        "0001-good": {
          up: async (db) => {
            await db.schema.createTable("kept").addColumn("id", "integer").execute();
          },
        },
        "0002-bad": {
          up: async (db) => {
            await sql`select * from no_such_table`.execute(db);
          },
        },
      },
      start: () => ({}),
    };
    await expect(startService(definition, await deps())).rejects.toThrow(/0002-bad/);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'catalog_broken'`.execute(
      database.forSchema("catalog_broken"),
    );
    expect(tables.rows.map((r) => r.table_name)).toContain("kept");
  });
});
