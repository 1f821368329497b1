// The end-to-end harness itself: every service starts, a customized image builds.
import { builderV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

describe("test platform", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it("builds acme's customized toolbox and every service reports healthy", async () => {
    const build = await platform.buildImage("smoke", ["jq"]);
    expect(build.failureMessage).toBe("");
    expect(build.status).toBe(builderV1.BuildStatus.SUCCEEDED);
    const health = await fetch(`${platform.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
