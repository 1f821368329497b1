import { describe, expect, it } from "vitest";
import {
  entitlementServiceCredentials,
  entitlementTokenKeys,
  generateApiKey,
  generateSigningKey,
} from "../src/index.js";

describe("entitlement client adapters", () => {
  it("reads the token keys the entitlement service publishes on every call", async () => {
    const first = generateSigningKey();
    const second = generateSigningKey();
    let published = [first];
    let calls = 0;
    const keys = entitlementTokenKeys({
      async getTokenKeys(request) {
        expect(request).toEqual({});
        calls++;
        return {
          keys: published.map((key) => ({ id: key.id, publicKeyPem: key.publicKeyPem, extra: 1 })),
        };
      },
    });
    expect(await keys()).toEqual([{ id: first.id, publicKeyPem: first.publicKeyPem }]);
    published = [first, second];
    expect(await keys()).toEqual([
      { id: first.id, publicKeyPem: first.publicKeyPem },
      { id: second.id, publicKeyPem: second.publicKeyPem },
    ]);
    expect(calls).toBe(2);
  });

  it("exchanges the service's API key for a token of the given audience and reuses it until it nears expiry", async () => {
    const apiKey = generateApiKey().credential;
    const requests: { apiKey: string; audience: number }[] = [];
    const expiresInSeconds = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const credentials = entitlementServiceCredentials(
      {
        async issueToken(request: { apiKey: string; audience: number }) {
          requests.push(request);
          return {
            token: `token-${requests.length}`,
            expiresAt: { seconds: expiresInSeconds, nanos: 0 },
          };
        },
      },
      apiKey,
      1,
    );
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-1" });
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-1" });
    expect(requests).toEqual([{ apiKey, audience: 1 }]);
  });

  it("exchanges again on every call when the issued token carries no expiry", async () => {
    let calls = 0;
    const credentials = entitlementServiceCredentials(
      {
        async issueToken() {
          calls++;
          return { token: `token-${calls}` };
        },
      },
      generateApiKey().credential,
      "api",
    );
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-1" });
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-2" });
  });

  it("lets a failed exchange surface and tries again on the next call", async () => {
    let calls = 0;
    const credentials = entitlementServiceCredentials(
      {
        async issueToken() {
          calls++;
          if (calls === 1) throw new Error("entitlement unavailable");
          return {
            token: "ok",
            expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
          };
        },
      },
      generateApiKey().credential,
      "api",
    );
    await expect(credentials.metadata()).rejects.toThrow("entitlement unavailable");
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer ok" });
  });
});
