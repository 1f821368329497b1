import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthCommand } from "./health-command.js";

describe("tailorctl health", () => {
  let server: http.Server;
  let body: unknown;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("lists each service and exits 1 when one is down", async () => {
    body = {
      status: "NOT_SERVING",
      services: {
        catalog: { status: "SERVING", address: "127.0.0.1:50051", latencyMs: 3 },
        resolver: {
          status: "UNREACHABLE",
          address: "127.0.0.1:50053",
          latencyMs: 2001,
          error: "deadline exceeded",
        },
      },
    };
    const result = await healthCommand(url);
    expect(result.exitCode).toBe(1);
    expect(result.text).toMatch(/^catalog\s+SERVING\s+127\.0\.0\.1:50051\s+3 ms$/m);
    expect(result.text).toMatch(
      /^resolver\s+UNREACHABLE\s+127\.0\.0\.1:50053\s+deadline exceeded$/m,
    );
    expect(result.text).toMatch(/^overall\s+NOT_SERVING$/m);
  });

  it("says which URL it could not reach", async () => {
    const result = await healthCommand("http://127.0.0.1:1");
    expect(result.exitCode).toBe(2);
    expect(result.text).toContain("cannot reach the gateway at http://127.0.0.1:1");
  });
});
