// The gateway's HTTP surface against real services: /healthz asks each one
// over gRPC health with a deadline and tells which are down.
import { entitlementService } from "@tailor/entitlement";
import type { TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testPlatformConfig,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthReport } from "../src/index.js";
import { gatewayService } from "../src/index.js";

describe("gateway HTTP", () => {
  let nats: Awaited<ReturnType<typeof createTestNats>>;
  let pg: Awaited<ReturnType<typeof createTestDatabase>>;
  let entitlement: TestService;
  let gateway: TestService;
  let url: string;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase();
    const config = await testPlatformConfig(nats);
    entitlement = await startTestService(entitlementService, {
      database: pg.database,
      nats,
      config,
    });
    gateway = await startTestService(gatewayService, { database: pg.database, nats, config });
    url = gateway.running.info.httpUrl ?? "";
  });

  afterAll(async () => {
    await gateway?.stop();
    await entitlement?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
  });

  it("reports each service's health and 503 while some are not running", async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(503);
    const report = (await response.json()) as HealthReport;
    expect(report.status).toBe("NOT_SERVING");
    expect(report.services.entitlement?.status).toBe("SERVING");
    expect(report.services.gateway?.status).toBe("SERVING");
    expect(report.services.entitlement?.address).toBe(entitlement.config.entitlementAddress);
    for (const down of ["catalog", "resolver", "builder", "build-history"]) {
      expect(report.services[down]?.status, down).toBe("UNREACHABLE");
      expect(report.services[down]?.error, down).toBeTruthy();
    }
  });

  it("answers /healthz within its deadline even when services are down", async () => {
    const started = performance.now();
    await fetch(`${url}/healthz`);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("serves Prometheus metrics including gRPC call histograms", async () => {
    await fetch(`${url}/healthz`);
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toMatch(/tailor_grpc_server_handling_seconds_bucket\{[^}]*method="Check"/);
  });

  it("serves the console placeholder at /", async () => {
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("<h1>Tailor</h1>");
  });
});
