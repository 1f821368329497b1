// The private APK repository's keys over REST: members list them, owners
// rotate them, and the repository signs with the new key at once.
import { readApkIndexArchive } from "@tailor/apk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

interface KeyBody {
  name: string;
  publicKeyPem: string;
  current: boolean;
  signsUntil: string | null;
}

describe("REST: APK repository keys", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({
      gatewayEnvironment: { TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS: "0" },
    });
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  async function call(apiKey: string, method: string, path: string, body?: unknown) {
    const response = await fetch(`${platform.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function signersOfIndex(): Promise<string[]> {
    const basic = Buffer.from(`ci:${platform.acme.viewer.apiKey}`).toString("base64");
    const response = await fetch(`${platform.url}/apk/acme/x86_64/APKINDEX.tar.gz`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(response.status).toBe(200);
    const archive = await readApkIndexArchive(new Uint8Array(await response.arrayBuffer()));
    return archive.signatures.map((signature) => signature.keyName);
  }

  it("lists the current key to any member, with the repository URL", async () => {
    const listed = await call(
      platform.acme.viewer.apiKey,
      "GET",
      "/api/v1/organizations/acme/apk-keys",
    );
    expect(listed.status).toBe(200);
    expect(listed.body.repositoryUrl).toBe(`${platform.url}/apk/acme`);
    const keys = listed.body.keys as KeyBody[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ current: true, signsUntil: null });
    expect(await signersOfIndex()).toEqual([keys[0]?.name]);
  });

  it("lets owners rotate (not editors), and the index is signed by the new and the old key", async () => {
    const before = (
      await call(platform.acme.viewer.apiKey, "GET", "/api/v1/organizations/acme/apk-keys")
    ).body.keys as KeyBody[];
    const refused = await call(
      platform.acme.editor.apiKey,
      "POST",
      "/api/v1/organizations/acme/apk-keys/rotate",
      {},
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "PERMISSION_DENIED" });

    const rotated = await call(
      platform.acme.owner.apiKey,
      "POST",
      "/api/v1/organizations/acme/apk-keys/rotate",
      {},
    );
    expect(rotated.status).toBe(201);
    const fresh = rotated.body as unknown as KeyBody;
    expect(fresh.current).toBe(true);
    expect(fresh.name).not.toBe(before[0]?.name);

    const after = (
      await call(platform.acme.viewer.apiKey, "GET", "/api/v1/organizations/acme/apk-keys")
    ).body.keys as KeyBody[];
    expect(after.map((key) => [key.name, key.current])).toEqual([
      [fresh.name, true],
      [before[0]?.name, false],
    ]);
    expect(await signersOfIndex()).toEqual(expect.arrayContaining([fresh.name, before[0]?.name]));
  });

  it("retires a leaked key at once with immediate: true (administrator)", async () => {
    const rotated = await call(
      platform.adminKey,
      "POST",
      "/api/v1/organizations/acme/apk-keys/rotate",
      {
        immediate: true,
      },
    );
    expect(rotated.status).toBe(201);
    const fresh = rotated.body as unknown as KeyBody;
    expect(await signersOfIndex()).toEqual([fresh.name]);
    const keys = (
      await call(platform.acme.viewer.apiKey, "GET", "/api/v1/organizations/acme/apk-keys")
    ).body.keys as KeyBody[];
    expect(keys[0]?.name).toBe(fresh.name);
  });

  it("hides another organization's keys (404) and refuses a bad body naming the field", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/organizations/acme/apk-keys"],
      ["POST", "/api/v1/organizations/acme/apk-keys/rotate"],
      ["GET", `/api/v1/organizations/${platform.acmeId}/apk-keys`],
    ] as const) {
      const answer = await call(
        platform.globex.owner.apiKey,
        method,
        path,
        method === "POST" ? {} : undefined,
      );
      expect(answer.status, path).toBe(404);
    }
    const bad = await call(
      platform.acme.owner.apiKey,
      "POST",
      "/api/v1/organizations/acme/apk-keys/rotate",
      {
        immediate: "yes",
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: "immediate" });
  });
});
