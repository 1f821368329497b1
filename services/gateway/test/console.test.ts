// The console's static files from TAILOR_GATEWAY_CONSOLE_DIR: files, cache
// headers, client-side routes, and nothing outside the directory.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { entitlementService } from "@tailor/entitlement";
import type { TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testPlatformConfig,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleFile } from "../src/http/console-route.js";
import { createGatewayService } from "../src/index.js";

describe("console static files", () => {
  let nats: Awaited<ReturnType<typeof createTestNats>>;
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let entitlement: TestService;
  let gateway: TestService;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tailor-console-"));
    await mkdir(join(dir, "site", "assets"), { recursive: true });
    await writeFile(join(dir, "site", "index.html"), "<!doctype html><title>console</title>");
    await writeFile(join(dir, "site", "assets", "app-1a2b.js"), "console.log('tailor')");
    await writeFile(join(dir, "site", ".env"), "SECRET=1");
    await writeFile(join(dir, "outside.txt"), "not for you");
    nats = await createTestNats();
    pg = await createTestDatabase();
    const config = await testPlatformConfig(nats);
    entitlement = await startTestService(entitlementService, {
      database: pg.database,
      nats,
      config,
    });
    gateway = await startTestService(
      createGatewayService({ environment: { TAILOR_GATEWAY_CONSOLE_DIR: join(dir, "site") } }),
      { database: pg.database, nats, config },
    );
    url = gateway.running.info.httpUrl ?? "";
  });

  afterAll(async () => {
    await gateway?.stop();
    await entitlement?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves index.html at / and for client-side routes, revalidated", async () => {
    for (const path of ["/", "/orgs/acme/images", "/builds"]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toContain("<title>console</title>");
    }
  });

  it("serves hashed assets with their type, cached for a year", async () => {
    const response = await fetch(`${url}/assets/app-1a2b.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("cache-control")).toContain("immutable");
    expect(await response.text()).toBe("console.log('tailor')");
    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
  });

  it("never serves hidden files or anything outside the directory", async () => {
    for (const path of [
      "/.env",
      "/../outside.txt",
      "/%2e%2e/outside.txt",
      "/assets/%2e%2e/%2e%2e/outside.txt",
      "/..%2foutside.txt",
    ]) {
      const response = await fetch(`${url}${path}`);
      const text = await response.text();
      expect(text, path).not.toContain("not for you");
      expect(text, path).not.toContain("SECRET");
    }
    expect(consoleFile("/srv/console", "/../etc/passwd")).toBeUndefined();
    expect(consoleFile("/srv/console", "/a/%2e%2e/%2e%2e/etc/passwd")).toBeUndefined();
    expect(consoleFile("/srv/console", "/%00")).toBeUndefined();
    expect(consoleFile("/srv/console", "/assets/app.js")).toBe("/srv/console/assets/app.js");
  });

  it("keeps API, registry and repository paths out of the console", async () => {
    const api = await fetch(`${url}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const metricsLike = await fetch(`${url}/healthz/extra`);
    expect(metricsLike.status).toBe(404);
    expect(await metricsLike.text()).not.toContain("<title>console</title>");
  });
});
