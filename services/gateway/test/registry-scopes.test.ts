// Registry tokens limited to the repositories a client asked for: the token
// endpoint mints them from an API key and /v2 enforces them with Docker's
// insufficient_scope challenge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestedPullScopes } from "../src/registry/token-route.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

const MANIFESTS =
  "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

function claimsOf(token: string): { scope?: string; aud?: string } {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}

describe("scoped registry tokens", () => {
  let platform: TestPlatform;
  let basic: string;

  beforeAll(async () => {
    platform = await startTestPlatform();
    for (const image of ["scoped-a", "scoped-b"]) {
      const build = await platform.buildImage(image, []);
      expect(build.failureMessage).toBe("");
    }
    basic = `Basic ${Buffer.from(`ci:${platform.acme.viewer.apiKey}`).toString("base64")}`;
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  async function tokenFor(query: string): Promise<string> {
    const response = await fetch(`${platform.url}/token?service=tailor${query}`, {
      headers: { authorization: basic },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  async function manifest(image: string, token: string): Promise<Response> {
    return fetch(`${platform.url}/v2/acme/${image}/manifests/latest`, {
      headers: { authorization: `Bearer ${token}`, accept: MANIFESTS },
    });
  }

  it("limits a token asked for one repository to that repository", async () => {
    const token = await tokenFor("&scope=repository:acme/scoped-a:pull");
    expect(claimsOf(token)).toMatchObject({
      aud: "registry",
      scope: "repository:acme/scoped-a:pull",
    });
    expect((await manifest("scoped-a", token)).status).toBe(200);

    const other = await manifest("scoped-b", token);
    expect(other.status).toBe(401);
    expect(other.headers.get("www-authenticate")).toContain(
      'scope="repository:acme/scoped-b:pull"',
    );
    expect(other.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    const body = (await other.json()) as { errors: { code: string }[] };
    expect(body.errors[0]?.code).toBe("UNAUTHORIZED");
    const blob = await fetch(`${platform.url}/v2/acme/scoped-b/tags/list`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(blob.status).toBe(401);
  });

  it("gives several scopes when asked (repeated or space-separated), pulls only", async () => {
    const token = await tokenFor(
      `&scope=${encodeURIComponent("repository:acme/scoped-a:pull,push repository:acme/scoped-b:pull")}&scope=repository:acme/other:push`,
    );
    expect(claimsOf(token).scope).toBe(
      "repository:acme/scoped-a:pull repository:acme/scoped-b:pull",
    );
    expect((await manifest("scoped-a", token)).status).toBe(200);
    expect((await manifest("scoped-b", token)).status).toBe(200);
  });

  it("gives an organization-wide pull token without a scope (docker login)", async () => {
    const token = await tokenFor("");
    expect(claimsOf(token).scope).toBeUndefined();
    expect((await manifest("scoped-a", token)).status).toBe(200);
    expect((await manifest("scoped-b", token)).status).toBe(200);
  });

  it("does not let a scope name another organization's repository into view", async () => {
    const globex = `Basic ${Buffer.from(`x:${platform.globex.owner.apiKey}`).toString("base64")}`;
    const response = await fetch(`${platform.url}/token?scope=repository:acme/scoped-a:pull`, {
      headers: { authorization: globex },
    });
    const { token } = (await response.json()) as { token: string };
    const pulled = await manifest("scoped-a", token);
    expect(pulled.status).toBe(404);
    expect(((await pulled.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
      "NAME_UNKNOWN",
    );
  });
});

describe("the OAuth 2 form of the token endpoint (containerd)", () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
    const build = await platform.buildImage("oauth", []);
    expect(build.failureMessage).toBe("");
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  function post(path: string, form: Record<string, string>): Promise<Response> {
    return fetch(`${platform.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
  }

  it("answers a password grant with a token limited to the asked scope", async () => {
    for (const path of ["/token", "/v2/token"]) {
      const response = await post(path, {
        grant_type: "password",
        username: "ci",
        password: platform.acme.viewer.apiKey,
        service: "tailor",
        scope: "repository:acme/oauth:pull",
        client_id: "containerd",
      });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const body = (await response.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBeGreaterThan(0);
      expect(claimsOf(body.access_token).scope).toBe("repository:acme/oauth:pull");
      const pulled = await fetch(`${platform.url}/v2/acme/oauth/manifests/latest`, {
        headers: { authorization: `Bearer ${body.access_token}`, accept: MANIFESTS },
      });
      expect(pulled.status).toBe(200);
    }
  });

  it("refuses wrong passwords and other grants the OAuth way", async () => {
    const wrong = await post("/token", {
      grant_type: "password",
      username: "ci",
      password: "tlr_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
    const refresh = await post("/token", { grant_type: "refresh_token", refresh_token: "x" });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe("unsupported_grant_type");
    const empty = await post("/token", { grant_type: "password", username: "ci" });
    expect(empty.status).toBe(400);
  });
});

describe("requestedPullScopes", () => {
  it("keeps pull scopes of valid names, normalised, and drops the rest", () => {
    expect(
      requestedPullScopes([
        "repository:acme/api:pull,push",
        "repository:acme/api:pull",
        "repository:acme/web:push",
        "repository:Acme/API:pull",
        "registry:catalog:*",
        "repository:acme/a/b:pull repository:acme/db:*",
      ]),
    ).toEqual(["repository:acme/api:pull", "repository:acme/db:pull"]);
    expect(requestedPullScopes(undefined)).toEqual([]);
    expect(requestedPullScopes(42)).toEqual([]);
  });
});
