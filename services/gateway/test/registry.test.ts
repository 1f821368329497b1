// The OCI distribution pull API end to end: all six services on real
// Postgres and NATS, acme's customized toolbox built by the real builder,
// then pulled over HTTP with fetch and with the real skopeo and umoci —
// version check and token dance, manifests and blobs (HEAD, Range), tag
// paging and history, OCI errors, pushes refused, globex kept out of every
// acme route, and a gateway whose own service identity is refused.
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseInstalledDb } from "@tailor/apk";
import { generateApiKey } from "@tailor/auth";
import { grpcAddressVariable } from "@tailor/config";
import type { builderV1 } from "@tailor/proto";
import { builderV1 as builder, entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testPlatformConfig,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayService } from "../src/index.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

const INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
const ALL_TAGS = [
  "3.12",
  "3.12-dev",
  "3.12.7",
  "3.12.7-dev",
  "3.12.7-r1",
  "3.12.7-r1-dev",
  "latest",
  "latest-dev",
];

/** Whether a command-line tool is installed; prints why its checks are skipped when it is not. */
function hasTool(tool: string): boolean {
  try {
    execFileSync("which", [tool], { stdio: "pipe" });
    return true;
  } catch {
    console.info(`skipping ${tool} checks: ${tool} is not installed`);
    return false;
  }
}
const HAS_SKOPEO = hasTool("skopeo");
const HAS_UMOCI = hasTool("umoci");

const execFileAsync = promisify(execFile);

/**
 * Runs a tool without blocking the event loop (the gateway it talks to runs
 * in this process); a failure names the command and carries its stderr.
 */
async function runTool(tool: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(tool, [...args], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; message: string };
    throw new Error(`${tool} ${args.join(" ")} failed: ${failed.stderr || failed.message}`, {
      cause: error,
    });
  }
}

/** `Authorization: Basic …` of `user:password`. */
function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** `sha256:<hex>` of bytes. */
function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The first error of an OCI error body (`{"errors":[…]}`). */
async function ociError(response: Response): Promise<{ code: string; message: string }> {
  const text = await response.text();
  const first = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors?.[0];
  if (first === undefined) throw new Error(`no OCI error in ${text}`);
  return first;
}

interface OciManifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

describe("OCI registry pull API", () => {
  let platform: TestPlatform;
  let workDir: string;
  let policy: string;
  /** acme's customized image: built without jq first, then with jq (so `latest` moved once). */
  let pull: builderV1.Build;
  let firstPull: builderV1.Build;
  /** A second acme image without jq, whose blobs differ from `pull`'s top layer. */
  let plain: builderV1.Build;
  let acmeKey: string;
  let globexKey: string;

  const url = (path: string) => `${platform.url}${path}`;
  const get = (path: string, authorization?: string, init: RequestInit = {}) =>
    fetch(url(path), {
      ...init,
      headers: {
        ...(authorization === undefined ? {} : { authorization }),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  const registryToken = async (password: string): Promise<string> => {
    const response = await get(
      `/token?service=${platform.registryHost}&scope=repository:acme/pull:pull`,
      basic("someone", password),
    );
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };
  const tokenOf = async (apiKey: string, audience: entitlementV1.Audience) =>
    (await platform.entitlement.issueToken({ apiKey, audience })).token;
  const imageManifest = async (): Promise<OciManifest> => {
    const response = await get(
      `/v2/acme/pull/manifests/${pull.digests["image/x86_64"]}`,
      basic("x", acmeKey),
    );
    expect(response.status).toBe(200);
    return (await response.json()) as OciManifest;
  };

  beforeAll(async () => {
    platform = await startTestPlatform();
    workDir = await mkdtemp(join(tmpdir(), "tailor-registry-test-"));
    policy = join(workDir, "policy.json");
    await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    acmeKey = platform.acme.viewer.apiKey;
    globexKey = platform.globex.owner.apiKey;
    firstPull = await platform.buildImage("pull", []);
    pull = await platform.buildImage("pull", ["jq"]);
    plain = await platform.buildImage("plain", []);
    for (const build of [firstPull, pull, plain]) {
      expect(build.failureMessage).toBe("");
      expect(build.status).toBe(builder.BuildStatus.SUCCEEDED);
    }
    expect(pull.digests.image).not.toBe(firstPull.digests.image);
  }, 300_000);
  afterAll(async () => {
    await platform?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  describe("authentication", () => {
    it("answers /v2/ with 200 {} to an API key (basic or bearer) and a bearer challenge otherwise", async () => {
      const anonymous = await get("/v2/");
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      expect(anonymous.headers.get("www-authenticate")).toBe(
        `Bearer realm="${platform.url}/token",service="${platform.registryHost}"`,
      );
      expect((await ociError(anonymous)).code).toBe("UNAUTHORIZED");

      for (const authorization of [basic("anyone", acmeKey), `Bearer ${acmeKey}`]) {
        const response = await get("/v2/", authorization);
        expect(response.status).toBe(200);
        expect(response.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
        expect(await response.json()).toEqual({});
      }
    });

    it("challenges with the repository's pull scope on repository routes", async () => {
      const response = await get("/v2/acme/pull/manifests/latest");
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe(
        `Bearer realm="${platform.url}/token",service="${platform.registryHost}",scope="repository:acme/pull:pull"`,
      );
      expect((await ociError(response)).code).toBe("UNAUTHORIZED");
    });

    it("exchanges basic credentials for a registry token at /token and /v2/token", async () => {
      for (const path of ["/token", "/v2/token"]) {
        const response = await get(
          `${path}?service=${platform.registryHost}&scope=repository:acme/pull:pull`,
          basic("ci", acmeKey),
        );
        expect(response.status).toBe(200);
        expect(response.headers.get("cache-control")).toBe("no-store");
        const body = (await response.json()) as Record<string, unknown>;
        expect(Object.keys(body).sort()).toEqual([
          "access_token",
          "expires_in",
          "issued_at",
          "token",
        ]);
        expect(body.access_token).toBe(body.token);
        expect(body.expires_in).toBeGreaterThan(0);
        expect(Number.isNaN(Date.parse(String(body.issued_at)))).toBe(false);
        const pulled = await get("/v2/acme/pull/manifests/latest", `Bearer ${String(body.token)}`);
        expect(pulled.status).toBe(200);
      }
      // A registry token is itself a valid password (returned as is).
      const token = await registryToken(acmeKey);
      expect(await registryToken(token)).toBe(token);
      expect((await get("/v2/", basic("x", token))).status).toBe(200);
    });

    it("refuses the token endpoint without credentials or with a wrong password", async () => {
      const anonymous = await get(`/token?service=${platform.registryHost}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      expect((await ociError(anonymous)).code).toBe("UNAUTHORIZED");

      const wrong = await get("/token", basic("acme", "not-a-key-or-token"));
      expect(wrong.status).toBe(401);
      expect((await ociError(wrong)).message).toMatch(/authentication failed/);
      const forgedKey = await get("/v2/", basic("acme", `${acmeKey.slice(0, -4)}AAAA`));
      expect(forgedKey.status).toBe(401);
    });

    it("refuses api- and apk-audience tokens on /token and /v2", async () => {
      for (const audience of [entitlementV1.Audience.API, entitlementV1.Audience.APK]) {
        const token = await tokenOf(acmeKey, audience);
        for (const [path, authorization] of [
          ["/token", basic("x", token)],
          ["/v2/", `Bearer ${token}`],
          ["/v2/", basic("x", token)],
          ["/v2/acme/pull/manifests/latest", `Bearer ${token}`],
        ] as const) {
          const response = await get(path, authorization);
          expect(response.status, `${path} with an audience ${audience} token`).toBe(401);
          expect((await ociError(response)).message).toMatch(/registry/);
        }
      }
    });

    it("lets an administrator pull any organization's image", async () => {
      const response = await get(
        "/v2/acme/pull/manifests/latest",
        basic("admin", platform.adminKey),
      );
      expect(response.status).toBe(200);
    });
  });

  describe("manifests", () => {
    it("serves the index by tag and by digest with its media type, length and digest", async () => {
      for (const reference of ["latest", pull.digests.image ?? ""]) {
        const response = await get(`/v2/acme/pull/manifests/${reference}`, basic("x", acmeKey));
        expect(response.status).toBe(200);
        const body = new Uint8Array(await response.arrayBuffer());
        expect(response.headers.get("content-type")).toBe(INDEX_TYPE);
        expect(response.headers.get("content-length")).toBe(String(body.length));
        expect(response.headers.get("docker-content-digest")).toBe(pull.digests.image);
        expect(sha256Of(body)).toBe(pull.digests.image);
        const index = JSON.parse(new TextDecoder().decode(body)) as {
          mediaType: string;
          manifests: { digest: string; platform: { architecture: string } }[];
        };
        expect(index.manifests.map((entry) => entry.digest)).toEqual([
          pull.digests["image/x86_64"],
        ]);
        expect(index.manifests[0]?.platform.architecture).toBe("amd64");
      }
    });

    it("answers HEAD with the GET's headers and no body", async () => {
      const got = await get("/v2/acme/pull/manifests/latest-dev", basic("x", acmeKey));
      const head = await get("/v2/acme/pull/manifests/latest-dev", basic("x", acmeKey), {
        method: "HEAD",
      });
      expect(head.status).toBe(200);
      for (const header of ["content-type", "content-length", "docker-content-digest"]) {
        expect(head.headers.get(header), header).toBe(got.headers.get(header));
      }
      expect(head.headers.get("docker-content-digest")).toBe(pull.digests.dev);
      expect(head.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    });

    it("serves a per-architecture manifest by digest", async () => {
      const digest = pull.digests["image/x86_64"] ?? "";
      const response = await get(`/v2/acme/pull/manifests/${digest}`, basic("x", acmeKey));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(MANIFEST_TYPE);
      const body = new Uint8Array(await response.arrayBuffer());
      expect(sha256Of(body)).toBe(digest);
      expect(response.headers.get("docker-content-digest")).toBe(digest);
    });

    it("honours Accept for tags: the stored type or a wildcard is served, a list without it is MANIFEST_UNKNOWN", async () => {
      const accepted = await get("/v2/acme/pull/manifests/latest", basic("x", acmeKey), {
        headers: { accept: `${MANIFEST_TYPE}, ${INDEX_TYPE};q=0.9` },
      });
      expect(accepted.status).toBe(200);
      expect(accepted.headers.get("content-type")).toBe(INDEX_TYPE);
      const refused = await get("/v2/acme/pull/manifests/latest", basic("x", acmeKey), {
        headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      expect(refused.status).toBe(404);
      const error = await ociError(refused);
      expect(error.code).toBe("MANIFEST_UNKNOWN");
      expect(error.message).toContain(INDEX_TYPE);
    });

    it("serves a manifest asked for by digest whatever the Accept header lists", async () => {
      for (const [digest, type] of [
        [pull.digests.image ?? "", INDEX_TYPE],
        [pull.digests["image/x86_64"] ?? "", MANIFEST_TYPE],
      ] as const) {
        for (const method of ["GET", "HEAD"]) {
          const response = await get(`/v2/acme/pull/manifests/${digest}`, basic("x", acmeKey), {
            method,
            headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
          });
          expect(response.status, `${method} ${digest}`).toBe(200);
          expect(response.headers.get("content-type")).toBe(type);
          expect(response.headers.get("docker-content-digest")).toBe(digest);
          if (method === "GET") {
            expect(sha256Of(new Uint8Array(await response.arrayBuffer()))).toBe(digest);
          }
        }
      }
    });

    it.each([
      ["an unknown tag", "/v2/acme/pull/manifests/no-such-tag", 404, "MANIFEST_UNKNOWN"],
      [
        "an unknown digest",
        `/v2/acme/pull/manifests/sha256:${"0".repeat(64)}`,
        404,
        "MANIFEST_UNKNOWN",
      ],
      ["an unknown repository", "/v2/acme/nothing-here/manifests/latest", 404, "NAME_UNKNOWN"],
      ["an upper-case name", "/v2/Acme/pull/manifests/latest", 400, "NAME_INVALID"],
      ["a three-part name", "/v2/acme/team/pull/manifests/latest", 400, "NAME_INVALID"],
      ["a one-part name", "/v2/pull/tags/list", 400, "NAME_INVALID"],
      ["a malformed digest", "/v2/acme/pull/manifests/sha256:abc", 400, "DIGEST_INVALID"],
      [
        "a sha512 digest",
        `/v2/acme/pull/manifests/sha512:${"a".repeat(128)}`,
        400,
        "DIGEST_INVALID",
      ],
      ["a malformed tag", "/v2/acme/pull/manifests/-latest", 400, "TAG_INVALID"],
      [
        "an unknown 128-character tag",
        `/v2/acme/pull/manifests/${"t".repeat(128)}`,
        404,
        "MANIFEST_UNKNOWN",
      ],
      ["a 129-character tag", `/v2/acme/pull/manifests/${"t".repeat(129)}`, 400, "TAG_INVALID"],
      [
        "history of a 128-character tag",
        `/v2/acme/pull/_tailor/history/${"t".repeat(128)}`,
        404,
        "MANIFEST_UNKNOWN",
      ],
      ["a malformed blob digest", "/v2/acme/pull/blobs/latest", 400, "DIGEST_INVALID"],
      ["an unknown endpoint", "/v2/acme/pull/referrers", 404, "UNSUPPORTED"],
    ])("answers %s with an OCI error", async (_what, path, status, code) => {
      const response = await get(path, basic("x", acmeKey));
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect((await ociError(response)).code).toBe(code);
    });
  });

  describe("blobs", () => {
    it("streams a layer whose sha256 is its digest, and HEAD tells its size", async () => {
      const manifest = await imageManifest();
      for (const blob of [manifest.config, ...manifest.layers]) {
        const response = await get(`/v2/acme/pull/blobs/${blob.digest}`, basic("x", acmeKey));
        expect(response.status).toBe(200);
        const body = new Uint8Array(await response.arrayBuffer());
        expect(body.length).toBe(blob.size);
        expect(sha256Of(body)).toBe(blob.digest);
        expect(response.headers.get("content-length")).toBe(String(blob.size));
        expect(response.headers.get("docker-content-digest")).toBe(blob.digest);
        expect(response.headers.get("accept-ranges")).toBe("bytes");

        const head = await get(`/v2/acme/pull/blobs/${blob.digest}`, basic("x", acmeKey), {
          method: "HEAD",
        });
        expect(head.status).toBe(200);
        expect(head.headers.get("content-length")).toBe(String(blob.size));
        expect(head.headers.get("docker-content-digest")).toBe(blob.digest);
        expect((await head.arrayBuffer()).byteLength).toBe(0);
      }
    });

    it("serves byte ranges with 206 and Content-Range, 416 for a range past the end, and ignores malformed ranges", async () => {
      const manifest = await imageManifest();
      const layer = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
      if (layer === undefined) throw new Error("the image has no layers");
      const path = `/v2/acme/pull/blobs/${layer.digest}`;
      const whole = new Uint8Array(await (await get(path, basic("x", acmeKey))).arrayBuffer());
      expect(whole.length).toBeGreaterThan(20);
      const size = whole.length;

      const cases: [string, number, number][] = [
        ["bytes=0-9", 0, 9],
        [`bytes=10-`, 10, size - 1],
        ["bytes=-7", size - 7, size - 1],
        [`bytes=5-${size + 100}`, 5, size - 1],
      ];
      for (const [range, start, end] of cases) {
        const response = await get(path, basic("x", acmeKey), { headers: { range } });
        expect(response.status, range).toBe(206);
        expect(response.headers.get("content-range"), range).toBe(`bytes ${start}-${end}/${size}`);
        expect(response.headers.get("content-length"), range).toBe(String(end - start + 1));
        expect(response.headers.get("docker-content-digest")).toBe(layer.digest);
        const body = new Uint8Array(await response.arrayBuffer());
        expect(Buffer.from(body).equals(Buffer.from(whole.subarray(start, end + 1))), range).toBe(
          true,
        );
      }

      const head = await get(path, basic("x", acmeKey), {
        method: "HEAD",
        headers: { range: "bytes=0-99" },
      });
      expect(head.status).toBe(206);
      expect(head.headers.get("content-length")).toBe(String(Math.min(100, size)));

      for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, "bytes=-0"]) {
        const response = await get(path, basic("x", acmeKey), { headers: { range } });
        expect(response.status, range).toBe(416);
        expect(response.headers.get("content-range"), range).toBe(`bytes */${size}`);
        // A refusal: nothing that belongs to the blob's bytes, and nothing to keep.
        expect(response.headers.get("cache-control"), range).toBe("no-store");
        for (const header of ["etag", "docker-content-digest", "accept-ranges"]) {
          expect(response.headers.get(header), `${header} of ${range}`).toBeNull();
        }
        expect((await ociError(response)).code).toBe("RANGE_INVALID");
      }
      // Another unit, several ranges or a malformed Range (RFC 9110: ignored): the whole blob.
      for (const range of [
        "items=0-1",
        "bytes=0-1,4-5",
        "bytes=9-3",
        "bytes=a-b",
        "bytes=-",
        "bytes=",
        "nonsense",
      ]) {
        const response = await get(path, basic("x", acmeKey), { headers: { range } });
        expect(response.status, range).toBe(200);
        expect(response.headers.get("content-range"), range).toBeNull();
        expect(response.headers.get("cache-control"), range).toMatch(/immutable/);
        expect((await response.arrayBuffer()).byteLength).toBe(size);
      }
    });

    it("refuses a blob the repository does not reference, even when it is stored", async () => {
      const pullManifest = await imageManifest();
      const plainResponse = await get(
        `/v2/acme/plain/manifests/${plain.digests["image/x86_64"]}`,
        basic("x", acmeKey),
      );
      const plainManifest = (await plainResponse.json()) as OciManifest;
      const plainBlobs = new Set(
        [plainManifest.config, ...plainManifest.layers].map((blob) => blob.digest),
      );
      const onlyInPull = pullManifest.layers.filter((layer) => !plainBlobs.has(layer.digest));
      expect(onlyInPull.length).toBeGreaterThan(0);
      for (const layer of onlyInPull) {
        expect(await platform.blobs.stat(layer.digest as `sha256:${string}`)).toBeDefined();
        for (const method of ["GET", "HEAD"]) {
          const response = await get(`/v2/acme/plain/blobs/${layer.digest}`, basic("x", acmeKey), {
            method,
          });
          expect(response.status, method).toBe(404);
          expect(response.headers.get("cache-control"), method).toBe("no-store");
          expect(response.headers.get("docker-content-digest"), method).toBeNull();
          expect(response.headers.get("etag"), method).toBeNull();
          if (method === "GET") expect((await ociError(response)).code).toBe("BLOB_UNKNOWN");
        }
        const inPull = await get(`/v2/acme/pull/blobs/${layer.digest}`, basic("x", acmeKey), {
          method: "HEAD",
        });
        expect(inPull.status).toBe(200);
      }
    });
  });

  describe("tags", () => {
    it("lists every tag in byte order", async () => {
      const response = await get("/v2/acme/pull/tags/list", basic("x", acmeKey));
      expect(response.status).toBe(200);
      expect(response.headers.get("link")).toBeNull();
      expect(await response.json()).toEqual({ name: "acme/pull", tags: ALL_TAGS });
    });

    it("pages with n and last, following the Link header to the end", async () => {
      const seen: string[] = [];
      let next: string | undefined = "/v2/acme/pull/tags/list?n=3";
      let pages = 0;
      while (next !== undefined) {
        const response = await get(next, basic("x", acmeKey));
        expect(response.status).toBe(200);
        const body = (await response.json()) as { name: string; tags: string[] };
        expect(body.name).toBe("acme/pull");
        expect(body.tags.length).toBeLessThanOrEqual(3);
        seen.push(...body.tags);
        pages += 1;
        const link = response.headers.get("link");
        next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
        if (link !== null) expect(next, link).toBeDefined();
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(ALL_TAGS);

      const afterLast = await get(
        "/v2/acme/pull/tags/list?last=3.12.7-r1-dev",
        basic("x", acmeKey),
      );
      expect(((await afterLast.json()) as { tags: string[] }).tags).toEqual([
        "latest",
        "latest-dev",
      ]);
      const none = await get("/v2/acme/pull/tags/list?n=0", basic("x", acmeKey));
      expect(((await none.json()) as { tags: string[] }).tags).toEqual([]);
      const bad = await get("/v2/acme/pull/tags/list?n=many", basic("x", acmeKey));
      expect(bad.status).toBe(400);
      expect((await ociError(bad)).code).toBe("PAGINATION_NUMBER_INVALID");
    });

    it("tells a tag's moves at _tailor/history, newest first", async () => {
      const response = await get("/v2/acme/pull/_tailor/history/latest", basic("x", acmeKey));
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        name: string;
        tag: string;
        moves: { fromDigest: string | null; toDigest: string; buildId: string; movedAt: string }[];
      };
      expect(body.name).toBe("acme/pull");
      expect(body.tag).toBe("latest");
      expect(
        body.moves.map(({ fromDigest, toDigest, buildId }) => ({ fromDigest, toDigest, buildId })),
      ).toEqual([
        { fromDigest: firstPull.digests.image, toDigest: pull.digests.image, buildId: pull.id },
        { fromDigest: null, toDigest: firstPull.digests.image, buildId: firstPull.id },
      ]);
      for (const move of body.moves) expect(Number.isNaN(Date.parse(move.movedAt))).toBe(false);

      const never = await get("/v2/acme/pull/_tailor/history/never-set", basic("x", acmeKey));
      expect(never.status).toBe(404);
      expect((await ociError(never)).code).toBe("MANIFEST_UNKNOWN");
    });
  });

  it.each([
    ["PUT", "/v2/acme/pull/manifests/latest"],
    ["POST", "/v2/acme/pull/blobs/uploads/"],
    ["PATCH", "/v2/acme/pull/blobs/uploads/some-upload"],
    ["DELETE", "/v2/acme/pull/manifests/latest"],
  ])("refuses %s %s: the registry is pull-only", async (method, path) => {
    const anonymous = await get(path, undefined, { method, body: "x" });
    expect(anonymous.status).toBe(401);
    const response = await get(path, basic("x", acmeKey), {
      method,
      body: "layer bytes",
      headers: { "content-type": "application/octet-stream" },
    });
    expect(response.status).toBe(405);
    expect((await ociError(response)).code).toBe("UNSUPPORTED");
  });

  describe("another organization", () => {
    type Route = { name: string; method: "GET" | "HEAD"; path: () => string };
    const routes: Route[] = [
      { name: "manifest by tag", method: "GET", path: () => "/v2/acme/pull/manifests/latest" },
      {
        name: "manifest by tag (HEAD)",
        method: "HEAD",
        path: () => "/v2/acme/pull/manifests/latest",
      },
      {
        name: "index by digest",
        method: "GET",
        path: () => `/v2/acme/pull/manifests/${pull.digests.image}`,
      },
      {
        name: "manifest by digest (HEAD)",
        method: "HEAD",
        path: () => `/v2/acme/pull/manifests/${pull.digests["image/x86_64"]}`,
      },
      { name: "dev variant", method: "GET", path: () => "/v2/acme/pull/manifests/latest-dev" },
      { name: "config blob", method: "GET", path: () => `/v2/acme/pull/blobs/${acmeBlob}` },
      { name: "config blob (HEAD)", method: "HEAD", path: () => `/v2/acme/pull/blobs/${acmeBlob}` },
      { name: "tags/list", method: "GET", path: () => "/v2/acme/pull/tags/list" },
      { name: "tag history", method: "GET", path: () => "/v2/acme/pull/_tailor/history/latest" },
    ];
    let acmeBlob = "";
    const credentials: [string, () => Promise<string>][] = [
      ["a globex API key (basic)", async () => basic("globex", globexKey)],
      ["a globex API key (bearer)", async () => `Bearer ${globexKey}`],
      ["a globex registry token (bearer)", async () => `Bearer ${await registryToken(globexKey)}`],
    ];

    beforeAll(async () => {
      acmeBlob = (await imageManifest()).config.digest;
    });

    describe.each(credentials)("with %s", (_label, authorization) => {
      it.each(routes)("gets 401 or 404 for acme's $name", async (route) => {
        const auth = await authorization();
        const response = await get(route.path(), auth, { method: route.method });
        expect([401, 404]).toContain(response.status);
        expect(response.headers.get("docker-content-digest")).toBeNull();
        if (route.method === "GET") {
          const text = await response.text();
          expect(text).not.toContain("sha256:");
          if (response.status === 404) {
            expect(JSON.parse(text)).toEqual({
              errors: [
                {
                  code: "NAME_UNKNOWN",
                  message: "repository acme/pull not found",
                  detail: { name: "acme/pull" },
                },
              ],
            });
          }
        }
        // Indistinguishable from a repository that does not exist.
        const missing = await get(route.path().replace("/acme/pull/", "/acme/missing/"), auth, {
          method: route.method,
        });
        expect(missing.status).toBe(response.status);
      });
    });

    it("still lets globex authenticate (its refusals above are about acme, not its key)", async () => {
      expect((await get("/v2/", basic("globex", globexKey))).status).toBe(200);
    });
  });

  describe("on a gateway whose own service identity is refused", () => {
    let nats: TestNats;
    let pg: TestDatabase;
    let gateway: TestService;

    beforeAll(async () => {
      nats = await createTestNats();
      pg = await createTestDatabase();
      gateway = await startTestService(
        createGatewayService({
          // A well-formed API key the entitlement service never issued.
          environment: { TAILOR_SERVICE_API_KEY: generateApiKey().credential },
          blobs: platform.blobs,
        }),
        {
          database: pg.database,
          nats,
          config: await testPlatformConfig(nats, {
            [grpcAddressVariable("entitlement")]: platform.config.entitlementAddress,
            [grpcAddressVariable("catalog")]: platform.config.catalogAddress,
            [grpcAddressVariable("resolver")]: platform.config.resolverAddress,
            [grpcAddressVariable("builder")]: platform.config.builderAddress,
            [grpcAddressVariable("build-history")]: platform.config.buildHistoryAddress,
          }),
        },
      );
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await pg?.cleanup();
      await nats?.cleanup();
    });

    it("answers 503 UNAVAILABLE, not 401 or 500: the client's credentials were fine", async () => {
      const base = gateway.running.info.httpUrl ?? "";
      const layer = (await imageManifest()).layers[0]?.digest ?? "";
      for (const path of [
        "/v2/acme/pull/manifests/latest",
        `/v2/acme/pull/blobs/${layer}`,
        "/v2/acme/pull/tags/list",
        "/v2/acme/pull/_tailor/history/latest",
      ]) {
        const response = await fetch(`${base}${path}`, {
          headers: { authorization: basic("x", acmeKey) },
        });
        expect(response.status, path).toBe(503);
        expect(response.headers.get("www-authenticate"), path).toBeNull();
        expect(response.headers.get("cache-control"), path).toBe("no-store");
        const error = await ociError(response);
        expect(error.code, path).toBe("UNAVAILABLE");
        expect(error.message, path).toMatch(/service identity/);
      }
      // The version check needs no service call: the client's key is good.
      const check = await fetch(`${base}/v2/`, { headers: { authorization: basic("x", acmeKey) } });
      expect(check.status).toBe(200);
    });
  });

  describe.skipIf(!HAS_SKOPEO || !HAS_UMOCI)("skopeo and umoci", () => {
    const copy = (reference: string, layout: string, credentials: string) =>
      runTool("skopeo", [
        "--policy",
        policy,
        "--override-os",
        "linux",
        "--override-arch",
        "amd64",
        "copy",
        "--src-tls-verify=false",
        "--src-creds",
        credentials,
        `docker://${platform.registryHost}/${reference}`,
        `oci:${layout}:latest`,
      ]);
    const unpack = async (layout: string, name: string): Promise<string> => {
      const bundle = join(workDir, `bundle-${name}`);
      await runTool("umoci", ["unpack", "--rootless", "--image", `${layout}:latest`, bundle]);
      return join(bundle, "rootfs");
    };
    const installedNames = async (rootfs: string) =>
      parseInstalledDb(await readFile(join(rootfs, "lib/apk/db/installed"), "utf8")).map(
        (record) => record.name,
      );

    /** How many GET /token requests the gateway answered 200 (from its /metrics). */
    const tokensIssued = async (): Promise<number> => {
      const text = await (await fetch(url("/metrics"))).text();
      const line = text
        .split("\n")
        .find(
          (candidate) =>
            candidate.startsWith("tailor_http_request_duration_seconds_count{") &&
            candidate.includes('method="GET"') &&
            candidate.includes('route="/token"') &&
            candidate.includes('status="200"'),
        );
      return line === undefined ? 0 : Number(line.split(" ").at(-1));
    };

    it("copies acme/pull:latest with an API key (via a token from /token) and umoci opens it", async () => {
      const layout = join(workDir, "layout-latest");
      const before = await tokensIssued();
      await copy("acme/pull:latest", layout, `ci:${acmeKey}`);
      // skopeo followed the bearer challenge to the token endpoint.
      expect(await tokensIssued()).toBeGreaterThan(before);
      const rootfs = await unpack(layout, "latest");
      expect(await readFile(join(rootfs, "usr/bin/jq"), "utf8")).toBe("jq 1.6-r0 usr/bin/jq\n");
      expect(await readFile(join(rootfs, "usr/bin/tool"), "utf8")).toBe(
        "tool 3.12.7-r1 usr/bin/tool\n",
      );
      const installed = await installedNames(rootfs);
      expect(installed).toEqual(expect.arrayContaining(["jq", "tool", "base-files"]));
      expect(installed).not.toContain("dev-shell");
      const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
        manifests: { digest: string; mediaType: string }[];
      };
      expect(index.manifests.map((entry) => entry.digest)).toEqual([pull.digests["image/x86_64"]]);
    });

    it("copies by digest, with a registry token as the password", async () => {
      const layout = join(workDir, "layout-digest");
      const token = await registryToken(acmeKey);
      await copy(`acme/pull@${pull.digests.image}`, layout, `token:${token}`);
      const rootfs = await unpack(layout, "digest");
      expect(await readFile(join(rootfs, "usr/bin/jq"), "utf8")).toBe("jq 1.6-r0 usr/bin/jq\n");
    });

    it("copies the -dev variant, which adds the shell", async () => {
      const layout = join(workDir, "layout-dev");
      await copy("acme/pull:latest-dev", layout, `ci:${acmeKey}`);
      const rootfs = await unpack(layout, "dev");
      expect(await readFile(join(rootfs, "usr/bin/dev-shell"), "utf8")).toContain("dev-shell");
      expect(await readFile(join(rootfs, "usr/bin/jq"), "utf8")).toBe("jq 1.6-r0 usr/bin/jq\n");
      expect(await installedNames(rootfs)).toEqual(
        expect.arrayContaining(["jq", "tool", "dev-shell"]),
      );
    });

    it("lists tags and inspects through the registry", async () => {
      const listed = JSON.parse(
        await runTool("skopeo", [
          "--policy",
          policy,
          "list-tags",
          "--tls-verify=false",
          "--creds",
          `ci:${acmeKey}`,
          `docker://${platform.registryHost}/acme/pull`,
        ]),
      ) as { Repository: string; Tags: string[] };
      expect(listed.Tags).toEqual(ALL_TAGS);
      const raw = JSON.parse(
        await runTool("skopeo", [
          "inspect",
          "--raw",
          "--tls-verify=false",
          "--creds",
          `ci:${acmeKey}`,
          `docker://${platform.registryHost}/acme/pull:3.12.7`,
        ]),
      ) as { mediaType: string };
      expect(raw.mediaType).toBe(INDEX_TYPE);
    });

    it("fails for globex's key and for a wrong password", async () => {
      for (const credentials of [`globex:${globexKey}`, "acme:wrong-password"]) {
        await expect(
          copy("acme/pull:latest", join(workDir, "layout-refused"), credentials),
        ).rejects.toThrow(/unauthorized|not found|denied|NAME_UNKNOWN|authentication/i);
      }
    });
  });
});
