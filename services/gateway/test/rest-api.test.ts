// The REST API end to end on the real services: the OpenAPI document (valid,
// complete, every operation live), authentication and tokens, organizations,
// identities and API keys for each role, and tenant isolation on every route
// of an organization. Every successful answer is checked against the schema
// the document gives for it.
import { validate } from "@readme/openapi-parser";
import { entitlementV1 } from "@tailor/proto";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayDependencies } from "../src/gateway-dependencies.js";
import type { ApiRoute } from "../src/rest/api-route.js";
import { fastifyPath } from "../src/rest/api-route.js";
import { registerRestApi, restRoutes } from "../src/rest/routes.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";
import type { ResponseSchemaCheck } from "./support/response-schemas.js";
import { createResponseSchemaCheck } from "./support/response-schemas.js";

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON read by the assertions.
type Json = any;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

interface CallOptions {
  readonly key?: string | undefined;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

const byOperation = new Map(restRoutes.map((route) => [route.operationId, route]));

function routeOf(operationId: string): ApiRoute {
  const route = byOperation.get(operationId);
  if (route === undefined) throw new Error(`no operation ${operationId}`);
  return route;
}

/** A minimal body or query value that satisfies `schema`. */
function sampleOf(schema: Json): unknown {
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(
        ((schema.required ?? []) as string[]).map((key) => [key, sampleOf(schema.properties[key])]),
      );
    case "array":
      return [];
    case "string":
      return "x".repeat(Math.max(2, schema.minLength ?? 2));
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    default:
      return null;
  }
}

describe("REST API", () => {
  let platform: TestPlatform;
  /** Checks a successful answer against its operation's response schema; undefined when it conforms. */
  let schemaProblem: ResponseSchemaCheck;

  async function request(method: string, path: string, options: CallOptions = {}) {
    const url = new URL(path, platform.url);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      url.searchParams.set(name, value);
    }
    const headers: Record<string, string> = {};
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const body: Json = text === "" ? undefined : JSON.parse(text);
    return { status: response.status, headers: response.headers, body } satisfies Answer;
  }

  /** Calls an operation by id; a successful answer must match the documented schema. */
  async function call(operationId: string, options: CallOptions = {}): Promise<Answer> {
    const route = routeOf(operationId);
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`${operationId} needs {${name}}`);
      return encodeURIComponent(value);
    });
    const answer = await request(route.method, path, options);
    if (answer.status === (route.response.status ?? 200) && route.response.schema !== undefined) {
      expect(
        await schemaProblem(operationId, answer.body),
        `${operationId} answer`,
      ).toBeUndefined();
    }
    return answer;
  }

  function expectError(answer: Answer, status: number, code: string): void {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(typeof answer.body.requestId).toBe("string");
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    schemaProblem = await createResponseSchemaCheck();
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  describe("OpenAPI document", () => {
    it("is served without credentials and validates as OpenAPI 3.1", async () => {
      const answer = await request("GET", "/api/openapi.json");
      expect(answer.status).toBe(200);
      const document = answer.body;
      expect(document.openapi).toBe("3.1.0");
      expect(document.servers).toEqual([{ url: platform.url }]);
      expect(document.components.securitySchemes.bearerAuth).toMatchObject({
        type: "http",
        scheme: "bearer",
      });
      expect(document.components.schemas.Error.required).toEqual(["error", "requestId"]);
      // Sections are named alike (lowercase words joined by dashes) and each says what it holds.
      for (const tag of document.tags as { name: string; description?: string }[]) {
        expect(tag.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
        expect(tag.description, tag.name).toEqual(expect.any(String));
      }
      const result = await validate(structuredClone(document));
      expect(result.valid ? [] : result.errors.map((error) => error.message)).toEqual([]);
    });

    it("describes every /api route fastify registers, and nothing else", async () => {
      const app = Fastify();
      const registered: string[] = [];
      app.addHook("onRoute", (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        for (const method of methods) {
          if (method !== "HEAD" && route.url.startsWith("/api")) {
            registered.push(`${method} ${route.url}`);
          }
        }
      });
      registerRestApi(app, {} as GatewayDependencies);
      await app.ready();
      await app.close();
      const document = (await request("GET", "/api/openapi.json")).body;
      const documented: string[] = [];
      for (const [path, item] of Object.entries(document.paths as Record<string, object>)) {
        for (const method of Object.keys(item)) {
          documented.push(`${method.toUpperCase()} ${fastifyPath(path)}`);
        }
      }
      expect(documented.sort()).toEqual(registered.sort());
      // The builds helper's routes are part of the same document.
      expect(documented.length).toBe(restRoutes.length);
    });

    it("answers every documented operation on the running gateway (401 without credentials)", async () => {
      const document = (await request("GET", "/api/openapi.json")).body;
      for (const route of restRoutes) {
        const path = route.path.replace(/\{(\w+)\}/g, "acme");
        const query = Object.fromEntries(
          Object.entries(route.query ?? {})
            .filter(([, parameter]) => parameter.required === true)
            .map(([name, parameter]) => [name, String(sampleOf(parameter.schema))]),
        );
        const body = route.body === undefined ? undefined : sampleOf(route.body);
        const answer = await request(route.method, path, { query, body });
        const operation = document.paths[route.path][route.method.toLowerCase()];
        if (route.auth === "none") {
          expect(answer.status, route.operationId).toBe(200);
          expect(operation.security).toEqual([]);
        } else {
          expect(answer.status, `${route.operationId} ${JSON.stringify(answer.body)}`).toBe(401);
          expect(answer.headers.get("www-authenticate"), route.operationId).toMatch(/^Bearer /);
          expect(operation.responses["401"]).toBeDefined();
        }
      }
    });
  });

  describe("authentication", () => {
    it("answers 401 with WWW-Authenticate for missing or invalid credentials", async () => {
      const cases: [string, Record<string, string>][] = [
        ["missing", {}],
        [
          "unknown API key",
          { authorization: "Bearer tlr_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" },
        ],
        ["malformed token", { authorization: "Bearer not-a-token" }],
        [
          "basic credentials",
          {
            authorization: `Basic ${Buffer.from(`x:${platform.acme.owner.apiKey}`).toString("base64")}`,
          },
        ],
      ];
      for (const [name, headers] of cases) {
        const response = await fetch(`${platform.url}/api/v1/organizations`, { headers });
        expect(response.status, name).toBe(401);
        expect(response.headers.get("www-authenticate"), name).toBe('Bearer realm="tailor"');
        const body = (await response.json()) as Json;
        expect(body.error.code, name).toBe("UNAUTHENTICATED");
        expect(body.error.message, name).not.toBe("");
      }
    });

    it("answers unknown routes under /api with a JSON 404", async () => {
      for (const [method, path] of [
        ["GET", "/api/v1/nothing-here"],
        ["GET", "/api/nothing"],
        ["DELETE", "/api/v1/organizations"],
        ["POST", "/api/v2/organizations"],
      ] as const) {
        const answer = await request(method, path, { key: platform.acme.owner.apiKey });
        expect(answer.headers.get("content-type"), path).toContain("application/json");
        expectError(answer, 404, "NOT_FOUND");
        expect(answer.body.error.message).toContain(path);
      }
    });

    it("answers malformed JSON in the REST error format", async () => {
      const response = await fetch(`${platform.url}/api/v1/auth/token`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${platform.acme.owner.apiKey}`,
          "content-type": "application/json",
        },
        body: '{"audience": ',
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as Json;
      expect(body.error.code).toBe("INVALID_ARGUMENT");
      expect(body.requestId).toBe(response.headers.get("x-request-id"));
    });

    it("asks anonymous clients for credentials before reading what they sent", async () => {
      const bodies: [string, Record<string, string>, string][] = [
        ["malformed JSON", { "content-type": "application/json" }, '{"audience": '],
        ["an unsupported media type", { "content-type": "application/xml" }, "<audience/>"],
        ["a body failing the schema", { "content-type": "application/json" }, '{"audience": 7}'],
      ];
      for (const [name, headers, body] of bodies) {
        for (const authorization of [undefined, "Bearer not-a-token"]) {
          const response = await fetch(`${platform.url}/api/v1/auth/token`, {
            method: "POST",
            headers: { ...headers, ...(authorization === undefined ? {} : { authorization }) },
            body,
          });
          const answer = (await response.json()) as Json;
          expect(response.status, `${name}, ${authorization ?? "anonymous"}`).toBe(401);
          expect(answer.error.code).toBe("UNAUTHENTICATED");
          expect(response.headers.get("www-authenticate")).toBe('Bearer realm="tailor"');
        }
      }
      // The same body from a caller with credentials is refused for what it is.
      const response = await fetch(`${platform.url}/api/v1/auth/token`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${platform.acme.viewer.apiKey}`,
          "content-type": "application/xml",
        },
        body: "<audience/>",
      });
      expect(response.status).toBe(415);
      expect(((await response.json()) as Json).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    });

    it("takes an empty JSON body of an operation whose body is optional as {}", async () => {
      const response = await fetch(
        `${platform.url}/api/v1/organizations/acme/custom-images/nothing-yet/preview`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${platform.acme.viewer.apiKey}`,
            "content-type": "application/json",
          },
          body: "",
        },
      );
      const answer = (await response.json()) as Json;
      // Not "body must not be empty": the preview ran and needs a source image for a new image.
      expect(response.status, JSON.stringify(answer)).toBe(404);
      expect(answer.error.field).toBe("image");
    });

    it("tells who the caller is", async () => {
      const answer = await call("whoami", { key: platform.acme.viewer.apiKey });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        subject: platform.acme.viewer.identityId,
        subjectName: "acme-auditor",
        audience: "api",
        organizationId: platform.acmeId,
        organizationName: "acme",
        role: "viewer",
        administrator: false,
      });
    });
  });

  describe("tokens", () => {
    it("issues tokens that work for the audience they were asked for, and only that one", async () => {
      const key = platform.acme.editor.apiKey;
      for (const audience of ["api", "registry", "apk"] as const) {
        const answer = await call("issueToken", { key, body: { audience, ttlSeconds: 300 } });
        expect(answer.status, audience).toBe(200);
        expect(answer.body.claims).toMatchObject({
          audience,
          subject: platform.acme.editor.identityId,
          organizationName: "acme",
          role: "editor",
        });
        const lifetime =
          Date.parse(answer.body.expiresAt) - Date.parse(answer.body.claims.issuedAt);
        expect(lifetime).toBeLessThanOrEqual(300_000);
        const { token } = answer.body;
        for (const other of ["api", "registry", "apk"] as const) {
          const verified = await platform.entitlement
            .verifyToken({
              token,
              audience:
                entitlementV1.Audience[
                  other === "api" ? "API" : other === "registry" ? "REGISTRY" : "APK"
                ],
            })
            .then(() => true)
            .catch(() => false);
          expect(verified, `${audience} token verified as ${other}`).toBe(other === audience);
        }
        const whoami = await call("whoami", { key: token });
        expect(whoami.status, `${audience} token on the REST API`).toBe(
          audience === "api" ? 200 : 401,
        );
      }
    });

    it("mints a token as long-lived as asked from an API key, and no longer than a token it exchanges", async () => {
      const key = platform.acme.editor.apiKey;
      // The gateway's own exchange of the key (15 minutes) does not limit it.
      const long = await call("issueToken", {
        key,
        body: { audience: "registry", ttlSeconds: 7200 },
      });
      expect(long.status, JSON.stringify(long.body)).toBe(200);
      const lifetime = (answer: Answer) =>
        Date.parse(answer.body.expiresAt) - Date.parse(answer.body.claims.issuedAt);
      expect(lifetime(long)).toBe(7_200_000);
      expect(long.body.claims.subject).toBe(platform.acme.editor.identityId);

      const short = await call("issueToken", { key, body: { audience: "api", ttlSeconds: 120 } });
      const exchanged = await call("issueToken", {
        key: short.body.token,
        body: { audience: "registry", ttlSeconds: 7200 },
      });
      expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
      expect(Date.parse(exchanged.body.expiresAt)).toBeLessThanOrEqual(
        Date.parse(short.body.expiresAt),
      );
    });

    it("refuses an unknown audience naming the field", async () => {
      const answer = await call("issueToken", {
        key: platform.acme.viewer.apiKey,
        body: { audience: "everything" },
      });
      expectError(answer, 400, "INVALID_ARGUMENT");
      expect(answer.body.error.field).toBe("audience");
    });
  });

  describe("organizations", () => {
    it("lists the caller's own organization for a member and every one for an administrator", async () => {
      const own = await call("listOrganizations", { key: platform.acme.viewer.apiKey });
      expect(own.body.organizations.map((org: Json) => org.name)).toEqual(["acme"]);
      const all = await call("listOrganizations", {
        key: platform.adminKey,
        query: { pageSize: "1" },
      });
      expect(all.body.organizations).toHaveLength(1);
      expect(all.body.nextPageToken).not.toBeNull();
      const next = await call("listOrganizations", {
        key: platform.adminKey,
        query: { pageToken: all.body.nextPageToken },
      });
      expect(next.body.organizations.map((org: Json) => org.name)).toContain("globex");
    });

    it("gets an organization by name or by id", async () => {
      for (const org of ["acme", platform.acmeId]) {
        const answer = await call("getOrganization", { key: platform.adminKey, params: { org } });
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          id: platform.acmeId,
          name: "acme",
          customAssemblyEnabled: true,
          customizableSourceImages: ["toolbox"],
        });
      }
      const own = await call("getOrganization", {
        key: platform.acme.viewer.apiKey,
        params: { org: "acme" },
      });
      expect(own.body.id).toBe(platform.acmeId);
    });

    it("lets administrators create organizations, enable custom assembly, record purchases and grants", async () => {
      const admin = platform.adminKey;
      const created = await call("createOrganization", {
        key: admin,
        body: { name: "initech", displayName: "Initech" },
      });
      expect(created.status).toBe(201);
      // The answer says where the new organization is, and it is there.
      const location = created.headers.get("location") ?? "";
      expect(location).toBe(`/api/v1/organizations/${created.body.id}`);
      expect((await request("GET", location, { key: admin })).body.name).toBe("initech");
      expect(created.body).toMatchObject({
        name: "initech",
        displayName: "Initech",
        customAssemblyEnabled: false,
      });
      const params = { org: "initech" };
      expectError(
        await call("createOrganization", { key: admin, body: { name: "initech" } }),
        409,
        "ALREADY_EXISTS",
      );

      const assembly = await call("setCustomAssembly", {
        key: admin,
        params,
        body: { enabled: true, customizableSourceImages: ["toolbox"] },
      });
      expect(assembly.body).toMatchObject({
        customAssemblyEnabled: true,
        customizableSourceImages: ["toolbox"],
      });
      const kept = await call("setCustomAssembly", {
        key: admin,
        params,
        body: { enabled: false },
      });
      expect(kept.body).toMatchObject({
        customAssemblyEnabled: false,
        customizableSourceImages: ["toolbox"],
      });

      const purchase = await call("addPurchase", {
        key: admin,
        params,
        body: { sourceImage: "toolbox" },
      });
      expect(purchase.status).toBe(201);
      expect(purchase.body.sourceImage).toBe("toolbox");
      expect(purchase.headers.get("location")).toBe(
        "/api/v1/organizations/initech/purchases/toolbox",
      );
      const grant = await call("grantPackage", {
        key: admin,
        params,
        body: { packageName: "jq", reason: "trial" },
      });
      expect(grant.status).toBe(201);
      expect(grant.body).toMatchObject({ packageName: "jq", reason: "trial" });
      expect(grant.headers.get("location")).toBe("/api/v1/organizations/initech/package-grants/jq");
      const entitlements = await call("getEntitlements", { key: admin, params });
      expect(entitlements.body.purchases.map((p: Json) => p.sourceImage)).toEqual(["toolbox"]);
      expect(entitlements.body.packageGrants.map((g: Json) => g.packageName)).toEqual(["jq"]);

      const revoked = await call("revokePackageGrant", {
        key: admin,
        params: { ...params, packageName: "jq" },
      });
      expect(revoked.body).toEqual({ removed: true });
      const removed = await call("removePurchase", {
        key: admin,
        params: { ...params, sourceImage: "toolbox" },
      });
      expect(removed.body).toEqual({ removed: true });
      const again = await call("removePurchase", {
        key: admin,
        params: { ...params, sourceImage: "toolbox" },
      });
      expect(again.body).toEqual({ removed: false });
    });

    it("refuses administrator-only operations to members with 403", async () => {
      const owner = platform.acme.owner.apiKey;
      const params = { org: "acme" };
      const attempts: [string, CallOptions][] = [
        ["createOrganization", { body: { name: "acme-two" } }],
        ["setCustomAssembly", { params, body: { enabled: true } }],
        ["addPurchase", { params, body: { sourceImage: "toolbox" } }],
        ["removePurchase", { params: { ...params, sourceImage: "toolbox" } }],
        ["grantPackage", { params, body: { packageName: "secret-tool" } }],
        ["revokePackageGrant", { params: { ...params, packageName: "jq" } }],
      ];
      for (const [operationId, options] of attempts) {
        const answer = await call(operationId, { ...options, key: owner });
        expectError(answer, 403, "PERMISSION_DENIED");
      }
      const entitlements = await call("getEntitlements", { key: owner, params });
      expect(entitlements.body.purchases.map((p: Json) => p.sourceImage)).toEqual(["toolbox"]);
      expect(entitlements.body.packageGrants.map((g: Json) => g.packageName)).toEqual(["jq"]);
    });

    it("lets owners change settings and refuses editors and viewers", async () => {
      const params = { org: "acme" };
      const on = await call("setOrganizationSettings", {
        key: platform.acme.owner.apiKey,
        params,
        body: { uniqueTags: true },
      });
      expect(on.body.uniqueTags).toBe(true);
      for (const member of [platform.acme.editor, platform.acme.viewer]) {
        const answer = await call("setOrganizationSettings", {
          key: member.apiKey,
          params,
          body: { uniqueTags: false },
        });
        expectError(answer, 403, "PERMISSION_DENIED");
      }
      const off = await call("setOrganizationSettings", {
        key: platform.acme.owner.apiKey,
        params,
        body: { uniqueTags: false },
      });
      expect(off.body.uniqueTags).toBe(false);
    });

    it("shows any member what the organization bought and was granted", async () => {
      const answer = await call("getEntitlements", {
        key: platform.acme.viewer.apiKey,
        params: { org: "acme" },
      });
      expect(answer.body.organization.name).toBe("acme");
      expect(answer.body.purchases.map((p: Json) => p.sourceImage)).toEqual(["toolbox"]);
      expect(answer.body.packageGrants.map((g: Json) => g.packageName)).toEqual(["jq"]);
    });

    it("refuses bad bodies with 400 naming the field", async () => {
      const admin = platform.adminKey;
      const cases: [string, CallOptions, string][] = [
        ["createOrganization", { body: {} }, "name"],
        ["createOrganization", { body: { name: 7 } }, "name"],
        ["createOrganization", { body: { name: "Not A Slug" } }, "name"],
        ["createOrganization", { body: { name: "fine-name", colour: "red" } }, "colour"],
        [
          "setCustomAssembly",
          {
            params: { org: "acme" },
            body: { enabled: true, customizableSourceImages: ["Bad Name!"] },
          },
          "customizableSourceImages[0]",
        ],
        [
          "setOrganizationSettings",
          { params: { org: "acme" }, body: { uniqueTags: "sometimes" } },
          "uniqueTags",
        ],
        // Values are taken as sent: no null → false, "true" → true, 1 → true, "7" → 7.
        [
          "setOrganizationSettings",
          { params: { org: "acme" }, body: { uniqueTags: null } },
          "uniqueTags",
        ],
        [
          "setOrganizationSettings",
          { params: { org: "acme" }, body: { uniqueTags: "true" } },
          "uniqueTags",
        ],
        [
          "setOrganizationSettings",
          { params: { org: "acme" }, body: { uniqueTags: 1 } },
          "uniqueTags",
        ],
        ["createOrganization", { body: { name: 12345 } }, "name"],
        ["createOrganization", { body: { name: ["two-names"] } }, "name"],
        ["issueToken", { body: { audience: "api", ttlSeconds: "300" } }, "ttlSeconds"],
      ];
      for (const [operationId, options, field] of cases) {
        const answer = await call(operationId, { ...options, key: admin });
        expectError(answer, 400, "INVALID_ARGUMENT");
        expect(answer.body.error.field, `${operationId} ${JSON.stringify(options.body)}`).toBe(
          field,
        );
        expect(answer.body.error.message).not.toBe("");
      }
    });
  });

  describe("identities and API keys", () => {
    it("lets owners manage identities and their keys", async () => {
      const owner = platform.acme.owner.apiKey;
      const org = "acme";
      const listed = await call("listIdentities", {
        key: platform.acme.viewer.apiKey,
        params: { org },
      });
      expect(listed.body.identities.map((identity: Json) => identity.name)).toEqual(
        expect.arrayContaining(["acme-owner", "acme-ci", "acme-auditor"]),
      );

      const created = await call("createIdentity", {
        key: owner,
        params: { org },
        body: { name: "robot", role: "editor" },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: "robot",
        role: "editor",
        organizationId: platform.acmeId,
      });
      const robot = created.body.id as string;
      expect(created.headers.get("location")).toBe(
        `/api/v1/organizations/acme/identities/${robot}`,
      );

      const demoted = await call("setIdentityRole", {
        key: owner,
        params: { org, identity: "robot" },
        body: { role: "viewer" },
      });
      expect(demoted.body.role).toBe("viewer");

      const key = await call("createApiKey", {
        key: owner,
        params: { org, identity: robot },
        body: { description: "ci", ttlDays: 30 },
      });
      expect(key.status).toBe(201);
      expect(key.body.secret).toMatch(/^tlr_/);
      expect(key.body.apiKey.description).toBe("ci");
      expect(key.body.apiKey.expiresAt).not.toBeNull();
      expect(key.headers.get("location")).toBe(
        `/api/v1/organizations/acme/identities/${robot}/api-keys/${key.body.apiKey.id}`,
      );
      const whoami = await call("whoami", { key: key.body.secret });
      expect(whoami.body).toMatchObject({ subjectName: "robot", role: "viewer" });

      const keys = await call("listApiKeys", { key: owner, params: { org, identity: "robot" } });
      expect(keys.body.apiKeys.map((k: Json) => k.id)).toEqual([key.body.apiKey.id]);
      expect(JSON.stringify(keys.body)).not.toContain(key.body.secret);
      const own = await call("listApiKeys", {
        key: key.body.secret,
        params: { org, identity: "robot" },
      });
      expect(own.status).toBe(200);

      const revoked = await call("revokeApiKey", {
        key: owner,
        params: { org, identity: "robot", key: key.body.apiKey.id },
      });
      expect(revoked.body.revokedAt).not.toBeNull();
      await expect(
        platform.entitlement.issueToken({
          apiKey: key.body.secret,
          audience: entitlementV1.Audience.API,
        }),
      ).rejects.toThrow(/revoked/);

      const deleted = await call("deleteIdentity", {
        key: owner,
        params: { org, identity: robot },
      });
      expect(deleted.body).toEqual({ deleted: true });
      const gone = await call("listApiKeys", { key: owner, params: { org, identity: robot } });
      expectError(gone, 404, "NOT_FOUND");
      expect(gone.body.error.message).toContain(robot);
      // As documented: removing it again is 404.
      expectError(
        await call("deleteIdentity", { key: owner, params: { org, identity: robot } }),
        404,
        "NOT_FOUND",
      );
    });

    it("refuses identity management to editors and viewers", async () => {
      const org = "acme";
      for (const member of [platform.acme.editor, platform.acme.viewer]) {
        const attempts: [string, CallOptions][] = [
          ["createIdentity", { params: { org }, body: { name: "sneaky", role: "owner" } }],
          [
            "setIdentityRole",
            { params: { org, identity: "acme-auditor" }, body: { role: "owner" } },
          ],
          ["deleteIdentity", { params: { org, identity: "acme-owner" } }],
          ["createApiKey", { params: { org, identity: "acme-owner" }, body: {} }],
          ["listApiKeys", { params: { org, identity: "acme-owner" } }],
        ];
        for (const [operationId, options] of attempts) {
          const answer = await call(operationId, { ...options, key: member.apiKey });
          expectError(answer, 403, "PERMISSION_DENIED");
        }
      }
      const identities = await call("listIdentities", {
        key: platform.acme.owner.apiKey,
        params: { org },
      });
      const roles = Object.fromEntries(
        identities.body.identities.map((i: Json) => [i.name, i.role]),
      );
      expect(roles).toMatchObject({
        "acme-owner": "owner",
        "acme-ci": "editor",
        "acme-auditor": "viewer",
      });
      expect(roles.sneaky).toBeUndefined();
    });

    it("lets an identity manage its own API keys", async () => {
      const editor = platform.acme.editor;
      const created = await call("createApiKey", {
        key: editor.apiKey,
        params: { org: "acme", identity: "acme-ci" },
      });
      expect(created.status).toBe(201);
      const revoked = await call("revokeApiKey", {
        key: editor.apiKey,
        params: { org: "acme", identity: editor.identityId, key: created.body.apiKey.id },
      });
      expect(revoked.status).toBe(200);
    });

    it("refuses bad bodies and unknown identities naming the field", async () => {
      const owner = platform.acme.owner.apiKey;
      const bad = await call("createIdentity", {
        key: owner,
        params: { org: "acme" },
        body: { name: "someone", role: "boss" },
      });
      expectError(bad, 400, "INVALID_ARGUMENT");
      expect(bad.body.error.field).toBe("role");
      const ttl = await call("createApiKey", {
        key: owner,
        params: { org: "acme", identity: "acme-ci" },
        body: { ttlDays: -1 },
      });
      expectError(ttl, 400, "INVALID_ARGUMENT");
      expect(ttl.body.error.field).toBe("ttlDays");
      const unknown = await call("setIdentityRole", {
        key: owner,
        params: { org: "acme", identity: "nobody" },
        body: { role: "viewer" },
      });
      expectError(unknown, 404, "NOT_FOUND");
      expect(unknown.body.error.message).toContain('"nobody"');
      const otherKey = await call("revokeApiKey", {
        key: owner,
        params: { org: "acme", identity: "acme-ci", key: "AAAAAAAAAAAA" },
      });
      expectError(otherKey, 404, "NOT_FOUND");
    });
  });

  describe("tenant isolation", () => {
    it("answers 404 to another organization's caller on every route of an organization", async () => {
      const acmeOwnerKeyId = platform.acme.owner.apiKey.split("_")[1] ?? "";
      const samples: Record<string, string> = {
        identity: "acme-owner",
        key: acmeOwnerKeyId,
        image: "nothing-yet",
        sourceImage: "toolbox",
        packageName: "jq",
        name: "toolbox",
      };
      const routes = restRoutes.filter((route) => route.path.includes("{org}"));
      expect(routes.length).toBeGreaterThan(20);
      for (const org of ["acme", platform.acmeId]) {
        for (const route of routes) {
          const params = Object.fromEntries(
            [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name = ""]) => [
              name,
              name === "org" ? org : (samples[name] ?? "x"),
            ]),
          );
          const query = Object.fromEntries(
            Object.entries(route.query ?? {})
              .filter(([, parameter]) => parameter.required === true)
              .map(([name, parameter]) => [name, String(sampleOf(parameter.schema))]),
          );
          const body = route.body === undefined ? undefined : sampleOf(route.body);
          const answer = await call(route.operationId, {
            key: platform.globex.owner.apiKey,
            params,
            query,
            body,
          });
          expect(
            answer.status,
            `${route.method} ${route.path} ${JSON.stringify(answer.body)}`,
          ).toBe(404);
          expect(answer.body.error.code).toBe("NOT_FOUND");
          if (org === "acme") expect(JSON.stringify(answer.body)).not.toContain(platform.acmeId);
        }
      }
      // Nothing changed in acme.
      const entitlements = await call("getEntitlements", {
        key: platform.acme.owner.apiKey,
        params: { org: "acme" },
      });
      expect(entitlements.body.purchases.map((p: Json) => p.sourceImage)).toEqual(["toolbox"]);
      const identities = await call("listIdentities", {
        key: platform.acme.owner.apiKey,
        params: { org: "acme" },
      });
      expect(identities.body.identities.map((i: Json) => i.name)).toContain("acme-owner");
    });
  });
});
