// The caller's own API keys over REST, for members and for platform
// administrators (who belong to no organization).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

interface KeyJson {
  id: string;
  description: string;
  revokedAt: string | null;
}

describe("REST: own API keys", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  async function call(key: string, method: string, path: string, body?: unknown) {
    const response = await fetch(`${platform.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      location: response.headers.get("location"),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it("lets an administrator create, use, list and revoke a key of its own", async () => {
    const created = await call(platform.adminKey, "POST", "/auth/api-keys", {
      description: "ops laptop",
      ttlDays: 30,
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const key = created.body.apiKey as KeyJson;
    expect(created.location).toBe(`/api/v1/auth/api-keys/${key.id}`);
    expect(secret.startsWith(`tlr_${key.id}_`)).toBe(true);

    const whoami = await call(secret, "GET", "/auth/whoami");
    expect(whoami.body).toMatchObject({ subjectName: "admin", administrator: true });

    const listed = await call(platform.adminKey, "GET", "/auth/api-keys");
    const keys = listed.body.apiKeys as KeyJson[];
    expect(keys.find((candidate) => candidate.id === key.id)?.description).toBe("ops laptop");
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const revoked = await call(platform.adminKey, "DELETE", `/auth/api-keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect((revoked.body as unknown as KeyJson).revokedAt).not.toBeNull();
  });

  it("lets a viewer manage its own keys but not another identity's", async () => {
    const mine = await call(platform.acme.viewer.apiKey, "POST", "/auth/api-keys", {});
    expect(mine.status).toBe(201);
    const mineId = (mine.body.apiKey as KeyJson).id;
    const theirs = await call(platform.acme.editor.apiKey, "POST", "/auth/api-keys", {});
    const theirId = (theirs.body.apiKey as KeyJson).id;

    const refused = await call(platform.acme.viewer.apiKey, "DELETE", `/auth/api-keys/${theirId}`);
    expect(refused.status).toBe(404);
    expect(refused.body.error).toMatchObject({ code: "NOT_FOUND", field: "key" });
    const fromGlobex = await call(
      platform.globex.owner.apiKey,
      "DELETE",
      `/auth/api-keys/${mineId}`,
    );
    expect(fromGlobex.status).toBe(404);

    const ownIds = (
      (await call(platform.acme.viewer.apiKey, "GET", "/auth/api-keys")).body.apiKeys as KeyJson[]
    ).map((key) => key.id);
    expect(ownIds).toContain(mineId);
    expect(ownIds).not.toContain(theirId);
  });
});
