// The newcomer's path: every service in one process on embedded defaults
// (PGlite in a data directory, the real NATS), reached over HTTP and gRPC.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { authorizationMetadata } from "@tailor/auth";
import type { Environment } from "@tailor/config";
import { SERVICE_NAMES } from "@tailor/config";
import type { Client } from "@tailor/grpc";
import { Code, createGrpcClient } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import { createTestNats, startNodeProcess, testLogger } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataDirLockedError, startAllInOne } from "../src/index.js";

const logger = testLogger();

/** Metadata carrying an `api` token minted from the administrator's API key. */
async function adminMetadata(
  client: Client<typeof entitlementV1.EntitlementService>,
  apiKey: string,
): Promise<Record<string, string>> {
  const { token } = await client.issueToken({ apiKey, audience: entitlementV1.Audience.API });
  return authorizationMetadata(token);
}
let nats: Awaited<ReturnType<typeof createTestNats>>;
let dataDir: string;

function environment(): Environment {
  return {
    TAILOR_DATA_DIR: dataDir,
    NATS_URL: nats.url,
    TAILOR_NATS_NAMESPACE: nats.namespace,
    // Port 0 everywhere: the launcher picks free ports, as it does when defaults are taken.
    TAILOR_HTTP_PORT: "0",
    TAILOR_CATALOG_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_ENTITLEMENT_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_RESOLVER_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_BUILDER_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_BUILD_HISTORY_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_GATEWAY_GRPC_ADDRESS: "127.0.0.1:0",
    TAILOR_SHUTDOWN_GRACE_MS: "1000",
    TAILOR_LOG_LEVEL: process.env.TAILOR_TEST_LOG === "1" ? "info" : "silent",
  };
}

beforeAll(async () => {
  nats = await createTestNats();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "tailor-aio-"));
});

afterAll(async () => {
  await nats?.cleanup();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe("startAllInOne", () => {
  it("serves every service's health, metrics, the console, REST and APK keys, then keeps data across restarts", async () => {
    const first = await startAllInOne({ environment: environment(), logger });
    let orgId: string;
    try {
      expect(first.services.map((s) => s.name)).toEqual([...SERVICE_NAMES]);

      const health = await fetch(`${first.httpUrl}/healthz`);
      expect(health.status).toBe(200);
      const report = (await health.json()) as {
        status: string;
        services: Record<string, { status: string }>;
      };
      expect(report.status).toBe("SERVING");
      for (const name of SERVICE_NAMES) expect(report.services[name]?.status, name).toBe("SERVING");

      const metrics = await (await fetch(`${first.httpUrl}/metrics`)).text();
      expect(metrics).toContain("tailor_grpc_server_handling_seconds");
      expect(metrics).toContain('method="Check"');

      const page = await fetch(`${first.httpUrl}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("<h1>Tailor</h1>");

      // A second launcher on the same data directory is refused, not corrupting it.
      await expect(startAllInOne({ environment: environment(), logger })).rejects.toBeInstanceOf(
        DataDirLockedError,
      );

      // The first start generated the administrator key into the data directory, readable only by its owner.
      expect(first.adminKey.generated).toBe(true);
      const keyFile = await fs.readFile(path.join(dataDir, "admin-key"), "utf8");
      expect(keyFile.trim()).toBe(first.adminKey.credential);
      expect((await fs.stat(path.join(dataDir, "admin-key"))).mode & 0o077).toBe(0);
      const client = createGrpcClient(entitlementV1.EntitlementService, {
        address: first.config.entitlementAddress,
      });
      await expect(client.createOrganization({ name: "no-credentials" })).rejects.toMatchObject({
        code: Code.UNAUTHENTICATED,
      });
      const metadata = await adminMetadata(client, keyFile.trim());
      const created = await client.createOrganization({ name: "wayne-enterprises" }, { metadata });
      orgId = created.organization?.id ?? "";
      client.close();
    } finally {
      await first.stop();
    }

    const second = await startAllInOne({ environment: environment(), logger });
    try {
      const client = createGrpcClient(entitlementV1.EntitlementService, {
        address: second.config.entitlementAddress,
      });
      // The same key, read back from the data directory, still signs the administrator in.
      expect(second.adminKey.generated).toBe(false);
      const metadata = await adminMetadata(client, second.adminKey.credential);
      const read = await client.getOrganization({ id: orgId }, { metadata });
      expect(read.organization?.name).toBe("wayne-enterprises");
      client.close();

      // The gateway on the embedded database: REST with the same key, and an
      // APK repository whose signing key is created on first use.
      const rest = await fetch(`${second.httpUrl}/api/v1/organizations/wayne-enterprises`, {
        headers: { authorization: `Bearer ${second.adminKey.credential}` },
      });
      expect(rest.status).toBe(200);
      expect(((await rest.json()) as { id: string }).id).toBe(orgId);
      const basic = Buffer.from(`admin:${second.adminKey.credential}`).toString("base64");
      const jwks = await fetch(`${second.httpUrl}/apk/wayne-enterprises/jwks.json`, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(jwks.status).toBe(200);
      const { keys } = (await jwks.json()) as { keys: { kid: string; kty: string }[] };
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({
        kty: "RSA",
        kid: expect.stringMatching(/^wayne-enterprises-\d{8}-/),
      });
    } finally {
      await second.stop();
    }
  });
});

describe("the all-in-one command", () => {
  it("prints the console URL, serves /healthz and exits 0 soon after SIGTERM", async () => {
    const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
    const child = startNodeProcess(cli, {
      ...environment(),
      TAILOR_LOG_LEVEL: "warn",
      TAILOR_LOG_FORMAT: "json",
    });
    try {
      const deadline = Date.now() + 30_000;
      let url: string | undefined;
      while (url === undefined && Date.now() < deadline) {
        url = /Console: (http:\/\/[^/\s]+)\//.exec(child.output())?.[1];
        if (url === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, child.output()).toBeDefined();
      const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
      expect(health.status).toBe("SERVING");

      const stopped = await child.terminate();
      expect(stopped.code, child.output()).toBe(0);
      expect(stopped.ms).toBeLessThan(5000);
    } finally {
      child.kill();
    }
  });
});
