// Customizing through the REST API on the real services: source images,
// custom images and their revisions, the entitled package list, previews
// (jq added, secret-tool refused as not entitled) and apply (a new revision
// and a build that succeeds), for each role. Every successful answer is
// checked against the schema the OpenAPI document gives for it.
import { createTokenVerifier, entitlementTokenKeys } from "@tailor/auth";
import { builderV1 } from "@tailor/proto";
import { testLogger } from "@tailor/testing";
import type { FastifyReply, FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayDependencies } from "../src/gateway-dependencies.js";
import type { ApiContext } from "../src/rest/api-route.js";
import { restRoutes } from "../src/rest/routes.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform, TOOLBOX_YAML } from "./support/platform.js";
import type { ResponseSchemaCheck } from "./support/response-schemas.js";
import { createResponseSchemaCheck } from "./support/response-schemas.js";

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON read by the assertions.
type Json = any;

interface Answer {
  readonly status: number;
  readonly body: Json;
  /** The Location header, if any. */
  readonly location: string | null;
}

interface CallOptions {
  readonly key: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

describe("REST customization", () => {
  let platform: TestPlatform;
  let schemaProblem: ResponseSchemaCheck;
  let owner: string;
  let editor: string;
  let viewer: string;

  /** Calls an operation by id; a successful answer must match the documented schema. */
  async function call(operationId: string, options: CallOptions): Promise<Answer> {
    const route = restRoutes.find((candidate) => candidate.operationId === operationId);
    if (route === undefined) throw new Error(`no operation ${operationId}`);
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`${operationId} needs {${name}}`);
      return encodeURIComponent(value);
    });
    const url = new URL(path, platform.url);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      url.searchParams.set(name, value);
    }
    const response = await fetch(url, {
      method: route.method,
      headers: {
        authorization: `Bearer ${options.key}`,
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const answer = {
      status: response.status,
      body: text === "" ? undefined : JSON.parse(text),
      location: response.headers.get("location"),
    };
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
  }

  const acme = (extra: Record<string, string> = {}) => ({ org: "acme", ...extra });

  async function revisionsOf(image: string): Promise<number[]> {
    const answer = await call("listCustomImageRevisions", {
      key: viewer,
      params: acme({ image }),
    });
    return answer.body.revisions.map((revision: Json) => revision.revision);
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    owner = platform.acme.owner.apiKey;
    editor = platform.acme.editor.apiKey;
    viewer = platform.acme.viewer.apiKey;
    schemaProblem = await createResponseSchemaCheck();
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  describe("source images", () => {
    it("lists source images and shows one with its packages and YAML", async () => {
      const list = await call("listSourceImages", { key: viewer });
      const toolbox = list.body.sourceImages.find((image: Json) => image.name === "toolbox");
      expect(toolbox).toMatchObject({ mainPackage: "tool", packages: ["tool"] });
      expect(toolbox.yaml).toBeUndefined();

      const one = await call("getSourceImage", { key: viewer, params: { name: "toolbox" } });
      expect(one.body).toMatchObject({
        name: "toolbox",
        mainPackage: "tool",
        version: "3.12.7-r1",
        packages: ["tool"],
        devPackages: ["dev-shell"],
        archs: ["x86_64"],
        entrypoint: ["/usr/bin/tool"],
        yaml: TOOLBOX_YAML,
      });
      expectError(
        await call("getSourceImage", { key: viewer, params: { name: "no-such-image" } }),
        404,
        "NOT_FOUND",
      );
    });
  });

  describe("custom images", () => {
    it("lets editors create custom images and everyone read them", async () => {
      const created = await call("createCustomImage", {
        key: editor,
        params: acme(),
        body: {
          name: "webapp",
          sourceImage: "toolbox",
          overlay: { environment: { MODE: "production" } },
          comment: "first",
        },
      });
      expect(created.status).toBe(201);
      expect(created.location).toBe("/api/v1/organizations/acme/custom-images/webapp");
      expect(created.body).toMatchObject({
        organizationId: platform.acmeId,
        name: "webapp",
        sourceImage: "toolbox",
        revision: 1,
        author: "acme-ci",
        authorId: platform.acme.editor.identityId,
        comment: "first",
        overlay: { packages: [], environment: { MODE: "production" } },
      });

      const list = await call("listCustomImages", { key: viewer, params: acme() });
      expect(list.body.customImages.map((image: Json) => image.name)).toContain("webapp");
      const one = await call("getCustomImage", { key: viewer, params: acme({ image: "webapp" }) });
      expect(one.body.revision).toBe(1);
      const first = await call("getCustomImage", {
        key: viewer,
        params: acme({ image: "webapp" }),
        query: { revision: "1" },
      });
      expect(first.body.comment).toBe("first");
      expectError(
        await call("getCustomImage", {
          key: viewer,
          params: acme({ image: "webapp" }),
          query: { revision: "9" },
        }),
        404,
        "NOT_FOUND",
      );
      expect(await revisionsOf("webapp")).toEqual([1]);
    });

    it("refuses viewers, duplicates and bad names", async () => {
      const body = { name: "viewer-made", sourceImage: "toolbox" };
      expectError(
        await call("createCustomImage", { key: viewer, params: acme(), body }),
        403,
        "PERMISSION_DENIED",
      );
      expectError(
        await call("createCustomImage", {
          key: editor,
          params: acme(),
          body: { name: "webapp", sourceImage: "toolbox" },
        }),
        409,
        "ALREADY_EXISTS",
      );
      const bad = await call("createCustomImage", {
        key: editor,
        params: acme(),
        body: { name: "Web App", sourceImage: "toolbox" },
      });
      expectError(bad, 400, "INVALID_ARGUMENT");
      expect(bad.body.error.field).toBe("name");
      const missing = await call("createCustomImage", {
        key: editor,
        params: acme(),
        body: { name: "no-source" },
      });
      expectError(missing, 400, "INVALID_ARGUMENT");
      expect(missing.body.error.field).toBe("sourceImage");
    });
  });

  describe("entitled packages", () => {
    it("lists what the organization may add, searchable by name", async () => {
      const all = await call("listEntitledPackages", { key: viewer, params: acme() });
      expect(all.body.arch).toBe("x86_64");
      const names = all.body.packages.map((entitled: Json) => entitled.name);
      expect(names).toEqual(expect.arrayContaining(["base-files", "tool", "jq"]));
      expect(names).not.toContain("secret-tool");
      expect(all.body.total).toBe(names.length);
      const jq = all.body.packages.find((entitled: Json) => entitled.name === "jq");
      expect(jq).toMatchObject({ versions: ["1.6-r0"], sources: ["grant"] });

      const search = await call("listEntitledPackages", {
        key: viewer,
        params: acme(),
        query: { q: "J" },
      });
      expect(search.body.packages.map((entitled: Json) => entitled.name)).toEqual(["jq"]);
      const inside = await call("listEntitledPackages", {
        key: viewer,
        params: acme(),
        query: { q: "file" },
      });
      expect(inside.body.packages.map((entitled: Json) => entitled.name)).toEqual(["base-files"]);
      const secret = await call("listEntitledPackages", {
        key: viewer,
        params: acme(),
        query: { q: "secret" },
      });
      expect(secret.body).toMatchObject({ total: 0, packages: [] });
      const limited = await call("listEntitledPackages", {
        key: viewer,
        params: acme(),
        query: { limit: "1" },
      });
      expect(limited.body.packages).toHaveLength(1);
      expect(limited.body.total).toBe(names.length);
    });

    it("names the arch when it has no packages", async () => {
      const answer = await call("listEntitledPackages", {
        key: viewer,
        params: acme(),
        query: { arch: "riscv64" },
      });
      expect(answer.status).toBe(409);
      expect(answer.body.error.field).toBe("arch");
      expect(answer.body.error.message).toContain("riscv64");
    });
  });

  describe("preview", () => {
    it("shows jq added", async () => {
      const answer = await call("previewCustomization", {
        key: viewer,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: ["jq"] } },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        ok: true,
        sourceImage: "toolbox",
        arch: "x86_64",
        baselineRevision: 1,
        removed: [],
        changed: [],
        fileConflicts: [],
        failure: null,
      });
      expect(answer.body.added).toEqual([
        expect.objectContaining({ name: "jq", oldVersion: null, newVersion: "1.6-r0" }),
      ]);
      expect(typeof answer.body.installedSizeDelta).toBe("number");
      expect(answer.body.installedSize).toBeGreaterThanOrEqual(answer.body.installedSizeDelta);
    });

    it("refuses secret-tool as not entitled, naming it", async () => {
      const answer = await call("previewCustomization", {
        key: viewer,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: ["jq", "secret-tool"] } },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.ok).toBe(false);
      expect(answer.body.failure.notEntitled).toEqual(["secret-tool"]);
      expect(answer.body.failure.text).toContain("secret-tool");
    });

    it("previews a new custom image from its source image", async () => {
      const answer = await call("previewCustomization", {
        key: viewer,
        params: acme({ image: "brand-new" }),
        body: { sourceImage: "toolbox", overlay: { packages: ["jq"] }, arch: "x86_64" },
      });
      expect(answer.body.ok).toBe(true);
      expect(answer.body.baselineRevision).toBeNull();
      // Compared with the source image itself.
      expect(answer.body.added.map((change: Json) => change.name)).toEqual(["jq"]);
      const unknown = await call("previewCustomization", {
        key: viewer,
        params: acme({ image: "brand-new" }),
        body: { overlay: { packages: ["jq"] } },
      });
      expectError(unknown, 404, "NOT_FOUND");
      expect(unknown.body.error.field).toBe("image");
      expect(unknown.body.error.message).toContain("sourceImage");
    });

    it("refuses bad bodies naming the field", async () => {
      const cases: [unknown, string][] = [
        [{ overlay: { packges: ["jq"] } }, "overlay.packges"],
        [{ overlay: { packages: ["jq"] }, extra: true }, "extra"],
        [{ arch: "" }, "arch"],
        [{ overlay: { packages: ["jq", "bad atom!"] } }, "overlay.packages[1]"],
        [{ overlay: { accounts: { users: [{ uid: 7 }] } } }, "overlay.accounts.users[0].username"],
        [{ sourceImage: "other" }, "sourceImage"],
      ];
      for (const [body, field] of cases) {
        const answer = await call("previewCustomization", {
          key: viewer,
          params: acme({ image: "webapp" }),
          body,
        });
        expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(answer.body.error.field, JSON.stringify(body)).toBe(field);
      }
    });
  });

  describe("apply", () => {
    it("refuses viewers with 403 and stores nothing", async () => {
      const answer = await call("applyCustomization", {
        key: viewer,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: ["jq"] } },
      });
      expectError(answer, 403, "PERMISSION_DENIED");
      expect(answer.body.error.message).toContain("editor");
      expect(await revisionsOf("webapp")).toEqual([1]);
    });

    it("refuses a package the organization is not entitled to, naming it, and stores nothing", async () => {
      const answer = await call("applyCustomization", {
        key: editor,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: ["secret-tool"] } },
      });
      expectError(answer, 409, "FAILED_PRECONDITION");
      expect(answer.body.error).toMatchObject({
        reason: "not_entitled",
        field: "overlay.packages[0]",
      });
      expect(answer.body.error.message).toContain('"secret-tool"');
      expect(await revisionsOf("webapp")).toEqual([1]);
    });

    it("stores a new revision and builds it", async () => {
      const answer = await call("applyCustomization", {
        key: editor,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: ["jq"] }, expectedRevision: 1, comment: "add jq" },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      expect(answer.body.customImage).toMatchObject({
        name: "webapp",
        revision: 2,
        comment: "add jq",
        // Keys the body left out keep their value.
        overlay: { packages: ["jq"], environment: { MODE: "production" } },
      });
      expect(answer.body.build).toMatchObject({
        customImage: "webapp",
        revision: 2,
        organizationId: platform.acmeId,
      });
      expect(["queued", "running", "succeeded"]).toContain(answer.body.build.status);
      expect(answer.location).toBe(`/api/v1/organizations/acme/builds/${answer.body.build.id}`);
      expect(await revisionsOf("webapp")).toEqual([2, 1]);
      const build = await platform.finished(answer.body.build.id);
      expect(build.failureMessage).toBe("");
      expect(build.status).toBe(builderV1.BuildStatus.SUCCEEDED);
    });

    it("refuses a stale expected revision", async () => {
      const answer = await call("applyCustomization", {
        key: owner,
        params: acme({ image: "webapp" }),
        body: { overlay: { packages: [] }, expectedRevision: 1 },
      });
      expect(answer.status).toBe(409);
      expect(await revisionsOf("webapp")).toEqual([2, 1]);
    });

    it("never overwrites a change applied at the same time without expectedRevision", async () => {
      const created = await call("applyCustomization", {
        key: editor,
        params: acme({ image: "shared" }),
        body: { sourceImage: "toolbox" },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(202);
      // Three editors change different keys at once, each without expectedRevision.
      const changes = [
        { environment: { MODE: "a" } },
        { annotations: { "org.example/team": "b" } },
        { packages: ["jq"] },
      ];
      const answers = await Promise.all(
        changes.map((overlay) =>
          call("applyCustomization", {
            key: editor,
            params: acme({ image: "shared" }),
            body: { overlay },
          }),
        ),
      );
      const stored: { revision: number; overlay: Json; change: Json }[] = [];
      for (const [index, answer] of answers.entries()) {
        if (answer.status === 202) {
          stored.push({ ...answer.body.customImage, change: changes[index] });
          continue;
        }
        // Refused whole, never merged onto a revision it did not see.
        expectError(answer, 409, "ABORTED");
        expect(answer.body.error.reason).toBe("revision_conflict");
      }
      expect(stored.length).toBeGreaterThan(0);
      stored.sort((a, b) => a.revision - b.revision);
      // Every stored revision keeps the changes stored before it.
      for (const [index, revision] of stored.entries()) {
        for (const earlier of stored.slice(0, index + 1)) {
          expect(revision.overlay, `revision ${revision.revision}`).toMatchObject(earlier.change);
        }
      }
      expect(await revisionsOf("shared")).toEqual(
        [...stored.map((revision) => revision.revision)].reverse().concat(1),
      );
    });

    it("refuses an expected revision of a custom image that does not exist yet", async () => {
      const answer = await call("applyCustomization", {
        key: editor,
        params: acme({ image: "not-yet" }),
        body: { sourceImage: "toolbox", expectedRevision: 1 },
      });
      expectError(answer, 409, "ABORTED");
      expect(answer.body.error).toMatchObject({
        reason: "revision_conflict",
        field: "expectedRevision",
      });
      expect(answer.body.error.message).toContain("does not exist");
      expectError(
        await call("getCustomImage", { key: viewer, params: acme({ image: "not-yet" }) }),
        404,
        "NOT_FOUND",
      );
    });

    it("stores and builds a change whose client leaves once storing began", async () => {
      const route = restRoutes.find((candidate) => candidate.operationId === "applyCustomization");
      const token = (platform.acme.editor.call.metadata?.authorization ?? "").replace(
        /^Bearer /,
        "",
      );
      const verifier = createTokenVerifier({ keys: entitlementTokenKeys(platform.entitlement) });
      const principal = await verifier.verify(token, "api");
      const left = new AbortController();
      // The client disconnects the moment the catalog is asked to store the revision.
      const leaving = <T extends object>(client: T, methods: readonly string[]): T =>
        new Proxy(client, {
          get(target, name, receiver) {
            const value = Reflect.get(target, name, receiver);
            if (typeof value !== "function" || !methods.includes(String(name))) return value;
            return (...args: unknown[]) => {
              left.abort();
              return value.apply(target, args);
            };
          },
        });
      const deps = {
        entitlement: platform.entitlement,
        catalog: leaving(platform.catalog, ["createCustomImage", "updateCustomImage"]),
        resolver: platform.resolver,
        builder: platform.builder,
      } as unknown as GatewayDependencies;
      const context: ApiContext = {
        request: { id: "left-early", log: testLogger() } as unknown as FastifyRequest,
        reply: { header: () => undefined } as unknown as FastifyReply,
        deps,
        params: { org: "acme", image: "left-early" },
        query: {},
        body: { sourceImage: "toolbox", overlay: { packages: ["jq"] } },
        credential: { principal, token },
        call: { metadata: { ...platform.acme.editor.call.metadata }, signal: left.signal },
      };
      const applied = (await route?.handler(context)) as Json;
      expect(left.signal.aborted).toBe(true);
      expect(applied.customImage).toMatchObject({ name: "left-early", revision: 1 });
      expect(applied.build).toMatchObject({ customImage: "left-early", revision: 1 });
      expect(await revisionsOf("left-early")).toEqual([1]);
      const build = await platform.finished(applied.build.id);
      expect(build.status).toBe(builderV1.BuildStatus.SUCCEEDED);
    });

    it("creates and builds a new custom image from a source image", async () => {
      const answer = await call("applyCustomization", {
        key: owner,
        params: acme({ image: "fresh" }),
        body: { sourceImage: "toolbox", overlay: { packages: ["jq"] } },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      expect(answer.body.customImage).toMatchObject({
        name: "fresh",
        sourceImage: "toolbox",
        revision: 1,
      });
      expect(answer.body.build.revision).toBe(1);
      const missing = await call("applyCustomization", {
        key: owner,
        params: acme({ image: "never" }),
        body: { overlay: { packages: ["jq"] } },
      });
      expectError(missing, 404, "NOT_FOUND");
      expect(missing.body.error.field).toBe("image");
    });
  });
});
