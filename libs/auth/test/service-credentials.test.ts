import { describe, expect, it } from "vitest";
import { createServiceCredentials, generateApiKey } from "../src/index.js";

describe("service credentials", () => {
  const apiKey = generateApiKey().credential;

  it("exchanges the API key once and reuses the token until a minute before it expires", async () => {
    let clock = new Date("2030-01-01T00:00:00Z");
    const issued: string[] = [];
    const credentials = createServiceCredentials({
      apiKey,
      now: () => clock,
      async issueToken(key) {
        expect(key).toBe(apiKey);
        const token = `token-${issued.length + 1}`;
        issued.push(token);
        return { token, expiresAt: new Date(clock.getTime() + 10 * 60_000) };
      },
    });
    const [first, concurrent] = await Promise.all([credentials.metadata(), credentials.metadata()]);
    expect(first).toEqual({ authorization: "Bearer token-1" });
    expect(concurrent).toEqual(first);
    clock = new Date(clock.getTime() + 8 * 60_000);
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-1" });
    // Less than a minute left: a fresh token.
    clock = new Date(clock.getTime() + 61_000);
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-2" });
    credentials.invalidate();
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer token-3" });
    expect(issued).toHaveLength(3);
  });

  it("does not cache a failed exchange", async () => {
    let calls = 0;
    const credentials = createServiceCredentials({
      apiKey,
      async issueToken() {
        calls++;
        if (calls === 1) throw new Error("entitlement unavailable");
        return { token: "ok", expiresAt: new Date(Date.now() + 3_600_000) };
      },
    });
    await expect(credentials.metadata()).rejects.toThrow("entitlement unavailable");
    expect(await credentials.metadata()).toEqual({ authorization: "Bearer ok" });
  });
});
