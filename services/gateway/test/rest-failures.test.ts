// The REST API when a service behind the gateway cannot be reached: extra
// gateways next to the test platform, one that cannot reach the builder and
// one that cannot reach the build history (their addresses are ports nobody
// listens on). A client is told what happened (an applied revision that was
// stored though no build started) without the gateway's internal addresses.

import type { builderV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  freePort,
  startTestService,
  testLogger,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayService } from "../src/index.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON read by the assertions.
type Json = any;

describe("REST API with a service out of reach", () => {
  let platform: TestPlatform;
  let nats: TestNats;
  let pg: TestDatabase;
  /** A port nobody listens on, where the broken gateways look for a service. */
  let unreachable: string;
  let withoutBuilder: TestService;
  let withoutHistory: TestService;
  /** A finished build of acme. */
  let build: builderV1.Build;

  /** Starts a gateway on the platform's services, except `config`'s changes. */
  async function brokenGateway(change: Partial<TestPlatform["config"]>): Promise<TestService> {
    return startTestService(createGatewayService({ environment: {}, blobs: platform.blobs }), {
      database: pg.database,
      nats,
      logger: testLogger(),
      config: {
        ...platform.config,
        gatewayAddress: `127.0.0.1:${await freePort()}`,
        ...change,
      },
    });
  }

  function urlOf(gateway: TestService, path: string): string {
    return `${gateway.running.info.httpUrl ?? ""}${path}`;
  }

  async function answer(response: Response): Promise<{ status: number; body: Json }> {
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  /** True when `text` names no address or transport detail of the gateway's side. */
  function keepsInternalsOut(text: string): void {
    expect(text).not.toContain(unreachable);
    expect(text).not.toContain("127.0.0.1");
    expect(text).not.toMatch(/ECONNREFUSED|No connection established/i);
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    build = await platform.buildImage("outage-tools", []);
    nats = await createTestNats();
    pg = await createTestDatabase();
    unreachable = `127.0.0.1:${await freePort()}`;
    withoutBuilder = await brokenGateway({ builderAddress: unreachable });
    withoutHistory = await brokenGateway({ buildHistoryAddress: unreachable });
  }, 240_000);

  afterAll(async () => {
    await withoutHistory?.stop();
    await withoutBuilder?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
    await platform?.stop();
  });

  it("answers 503 without internal addresses when a service cannot be reached", async () => {
    const key = platform.acme.viewer.apiKey;
    const cases: [TestService, string][] = [
      [withoutBuilder, `/api/v1/organizations/acme/builds/${build.id}`],
      [withoutHistory, `/api/v1/organizations/acme/builds/${build.id}/log`],
      [withoutHistory, "/api/v1/organizations/acme/builds"],
    ];
    for (const [gateway, path] of cases) {
      const response = await fetch(urlOf(gateway, path), {
        headers: { authorization: `Bearer ${key}` },
      });
      const { status, body } = await answer(response);
      expect(status, path).toBe(503);
      expect(body.error.code).toBe("UNAVAILABLE");
      expect(body.error.message).toContain("unavailable");
      expect(body.requestId).toBe(response.headers.get("x-request-id"));
      keepsInternalsOut(JSON.stringify(body));
    }
  });

  it("tells the client an applied revision was stored when its build could not be requested", async () => {
    const response = await fetch(
      urlOf(withoutBuilder, "/api/v1/organizations/acme/custom-images/outage/apply"),
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${platform.acme.editor.apiKey}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ sourceImage: "toolbox", overlay: { packages: ["jq"] } }),
      },
    );
    const { status, body } = await answer(response);
    expect(status, JSON.stringify(body)).toBe(502);
    expect(body.error).toMatchObject({
      code: "BUILD_NOT_REQUESTED",
      reason: "build_not_requested",
      details: { revision: "1", customImage: "outage", cause: "UNAVAILABLE" },
    });
    expect(body.error.message).toContain("revision 1");
    keepsInternalsOut(JSON.stringify(body));
    // The revision is there, through the healthy gateway too.
    const revisions = await answer(
      await fetch(`${platform.url}/api/v1/organizations/acme/custom-images/outage/revisions`, {
        headers: { authorization: `Bearer ${platform.acme.viewer.apiKey}` },
      }),
    );
    expect(revisions.status).toBe(200);
    expect(revisions.body.revisions.map((revision: Json) => revision.revision)).toEqual([1]);
  });

  it("reports a log stream that cannot be followed as a `failure` event without internal addresses", async () => {
    const response = await fetch(
      urlOf(withoutHistory, `/api/v1/organizations/acme/builds/${build.id}/log/stream`),
      { headers: { authorization: `Bearer ${platform.acme.viewer.apiKey}` } },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const text = await response.text();
    const frames = text.split("\n\n").filter((frame) => /^(event|data):/m.test(frame));
    expect(frames).toHaveLength(1);
    const frame = frames[0] ?? "";
    expect(frame).toMatch(/^event: failure$/m);
    const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}") as Json;
    expect(data.error.code).toBe("UNAVAILABLE");
    expect(data.error.message).toContain("unavailable");
    keepsInternalsOut(text);
  }, 60_000);
});
