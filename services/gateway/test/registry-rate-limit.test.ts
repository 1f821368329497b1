// Guessing registry passwords is throttled: with a failure limit of 3 per
// window, the fourth attempt of a credential is answered 429 (with
// Retry-After and TOOMANYREQUESTS) on the token endpoint and on /v2 alike,
// without the credential being checked. A platform of its own, so no other
// test trips the limiter.
import { generateApiKey } from "@tailor/auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

const FAILURE_LIMIT = 3;

/** `Authorization: Basic …` of `user:password`. */
function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** The first error of an OCI error body. */
async function ociError(response: Response): Promise<{ code: string; message: string }> {
  const body = (await response.json()) as { errors: { code: string; message: string }[] };
  const first = body.errors[0];
  if (first === undefined) throw new Error(`no OCI error in ${JSON.stringify(body)}`);
  return first;
}

describe("registry authentication failures", () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({
      gatewayEnvironment: {
        TAILOR_GATEWAY_AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT),
        TAILOR_GATEWAY_AUTH_FAILURE_WINDOW_SECONDS: "600",
      },
    });
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it("answers wrong passwords 401 until the limit, then 429 on /token and /v2", async () => {
    // A good key works before anything failed.
    const good = await fetch(`${platform.url}/token`, {
      headers: { authorization: basic("acme", platform.acme.viewer.apiKey) },
    });
    expect(good.status).toBe(200);

    // A well-formed key nobody issued: every attempt is a real check until the limit.
    const guessed = generateApiKey().credential;
    for (let attempt = 1; attempt <= FAILURE_LIMIT; attempt++) {
      const response = await fetch(`${platform.url}/token`, {
        headers: { authorization: basic("acme", guessed) },
      });
      expect(response.status, `attempt ${attempt}`).toBe(401);
      expect((await ociError(response)).code).toBe("UNAUTHORIZED");
    }

    for (const [path, authorization] of [
      ["/token", basic("acme", guessed)],
      ["/v2/", basic("acme", guessed)],
      ["/v2/acme/pull/manifests/latest", `Bearer ${guessed}`],
    ] as const) {
      const response = await fetch(`${platform.url}${path}`, { headers: { authorization } });
      expect(response.status, path).toBe(429);
      expect(Number(response.headers.get("retry-after")), path).toBeGreaterThan(0);
      const error = await ociError(response);
      expect(error.code).toBe("TOOMANYREQUESTS");
      expect(error.message).toMatch(/too many failed authentications/);
    }
  });
});
