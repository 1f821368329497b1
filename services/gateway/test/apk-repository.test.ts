// The private APK repository end to end: all six services on real Postgres
// and NATS, apk-style HTTP basic auth, an index verified with the keys found
// the way apko (go-apk) discovers them, package bytes checked against the
// index, tenancy, key rotation (on a second gateway whose clock the test
// moves) and a gateway whose own service identity is refused.
import { createPublicKey } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApkIndexArchive, Keyring } from "@tailor/apk";
import { createKeyring, readApkIndexArchive, readPackage } from "@tailor/apk";
import { generateApiKey } from "@tailor/auth";
import type { BlobDigest, BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore, readBlob } from "@tailor/blob";
import type { Environment } from "@tailor/config";
import { grpcAddressVariable } from "@tailor/config";
import type { Kysely } from "@tailor/db";
import { entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testLogger,
  testPlatformConfig,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RepositoryJwk, RepositoryJwks } from "../src/apk/jwks.js";
import { createApkRepositoryKeys, rotateApkRepositoryKey } from "../src/apk/repository-keys.js";
import { createGatewayService, loadGatewayConfig } from "../src/index.js";
import type { GatewayDatabase } from "../src/store/gateway-database.js";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

const ARCH = "x86_64";
/** A JWKS `kid`: the key file name without ".rsa.pub". */
const KEY_ID = /^acme-\d{8}-[0-9a-f]{8}$/;
/** A key file name (what signatures and /etc/apk/keys use). */
const KEY_NAME = /^acme-\d{8}-[0-9a-f]{8}\.rsa\.pub$/;

/** `Authorization` of HTTP basic credentials, as apk-tools sends HTTP_AUTH. */
function basic(password: string, user = "apk"): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` };
}

/** The key file go-apk installs for a JWK: its `kid` and ".rsa.pub". */
function fileOf(jwk: Pick<RepositoryJwk, "kid">): string {
  return `${jwk.kid}.rsa.pub`;
}

/** A keyring of the JWKS's keys, each converted to PEM under `<kid>.rsa.pub`, as go-apk installs them. */
function keyringOf(keys: readonly RepositoryJwk[]): Keyring {
  return createKeyring(keys.map((jwk) => ({ name: fileOf(jwk), pem: pemOf(jwk) })));
}

function pemOf(jwk: RepositoryJwk): string {
  return createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: "jwk" })
    .export({ type: "spki", format: "pem" })
    .toString();
}

/** Names of the keys that signed an index. */
function signers(index: ApkIndexArchive): string[] {
  return index.signatures.map((signature) => signature.keyName);
}

/** `name-version` of each entry, sorted. */
function listed(index: ApkIndexArchive): string[] {
  return index.entries.map((entry) => `${entry.name}-${entry.version}`).sort();
}

/** A client of one gateway's APK repositories. */
function apkClient(baseUrl: () => string) {
  const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
    fetch(`${baseUrl()}${path}`, { method, headers });
  return {
    get,
    async jwks(org: string, password: string): Promise<RepositoryJwks> {
      const response = await get(`/apk/${org}/jwks.json`, basic(password));
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as RepositoryJwks;
    },
    /**
     * Key discovery as go-apk does it: `<repo>/apk-configuration` names the
     * JWKS; each key's file is `<kid>.rsa.pub`, fetched from
     * `<repo>/<kid>.rsa.pub` (repo: the discovery URL without
     * "/apk-configuration") and installed under that file name.
     */
    async discoverKeys(org: string, password: string) {
      const discovery = `${baseUrl()}/apk/${org}/apk-configuration`;
      const configuration = await fetch(discovery, { headers: basic(password) });
      expect(configuration.status, await configuration.clone().text()).toBe(200);
      const { jwks_uri } = (await configuration.json()) as { jwks_uri: string };
      const jwks = (await (
        await fetch(jwks_uri, { headers: basic(password) })
      ).json()) as RepositoryJwks;
      const repository = discovery.slice(0, -"/apk-configuration".length);
      const files: { name: string; url: string; pem: string }[] = [];
      for (const jwk of jwks.keys) {
        const url = `${repository}/${jwk.kid}.rsa.pub`;
        const response = await fetch(url, { headers: basic(password) });
        expect(response.status, url).toBe(200);
        files.push({ name: `${jwk.kid}.rsa.pub`, url, pem: await response.text() });
      }
      return { jwks, files, keyring: createKeyring(files) };
    },
    async index(org: string, password: string, keyring?: Keyring): Promise<ApkIndexArchive> {
      const response = await get(`/apk/${org}/${ARCH}/APKINDEX.tar.gz`, basic(password));
      expect(response.status, await response.clone().text()).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return readApkIndexArchive(bytes, {
        file: `${org}/${ARCH}/APKINDEX.tar.gz`,
        ...(keyring === undefined ? {} : { keyring }),
      });
    },
  };
}

describe("private APK repositories", () => {
  let platform: TestPlatform;
  let apk: ReturnType<typeof apkClient>;
  /** An `apk`-audience token of acme's viewer, globex's owner and acme's viewer for the registry. */
  let acmeToken: string;
  let globexToken: string;
  let registryToken: string;

  const issue = async (apiKey: string, audience: entitlementV1.Audience) =>
    (await platform.entitlement.issueToken({ apiKey, audience })).token;

  beforeAll(async () => {
    platform = await startTestPlatform({
      gatewayEnvironment: { TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS: "0" },
    });
    apk = apkClient(() => platform.url);
    acmeToken = await issue(platform.acme.viewer.apiKey, entitlementV1.Audience.APK);
    globexToken = await issue(platform.globex.owner.apiKey, entitlementV1.Audience.APK);
    registryToken = await issue(platform.acme.viewer.apiKey, entitlementV1.Audience.REGISTRY);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  /** The platform's services, for gateways of the test's own. */
  const platformServices = (): Environment => ({
    [grpcAddressVariable("entitlement")]: platform.config.entitlementAddress,
    [grpcAddressVariable("catalog")]: platform.config.catalogAddress,
    [grpcAddressVariable("resolver")]: platform.config.resolverAddress,
    [grpcAddressVariable("builder")]: platform.config.builderAddress,
    [grpcAddressVariable("build-history")]: platform.config.buildHistoryAddress,
  });

  /** What the resolver says acme may use, as `name-version`, sorted. */
  async function entitledToAcme(): Promise<string[]> {
    const { packages } = await platform.resolver.entitledPackages(
      { orgId: platform.acmeId, arch: ARCH },
      platform.acme.viewer.call,
    );
    return packages.flatMap((pkg) => pkg.versions.map((v) => `${pkg.name}-${v}`)).sort();
  }

  it("challenges a client without credentials with 401 and Basic, as apk-tools needs", async () => {
    for (const path of [
      `/apk/acme/${ARCH}/APKINDEX.tar.gz`,
      `/apk/acme/${ARCH}/tool-3.12.7-r1.apk`,
      "/apk/acme/apk-configuration",
      "/apk/acme/jwks.json",
      "/apk/acme/acme-20200101-00000000.rsa.pub",
      "/apk/acme/keys/acme-20200101-00000000.rsa.pub",
      "/apk/no-such-org/x86_64/APKINDEX.tar.gz",
    ]) {
      const response = await apk.get(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate"), path).toBe(
        'Basic realm="Tailor APK repository"',
      );
    }
  });

  it("serves acme exactly its entitled packages, signed with the key apko discovers", async () => {
    const { jwks, files, keyring } = await apk.discoverKeys("acme", acmeToken);
    expect(jwks.keys).toHaveLength(1);
    const [key] = jwks.keys;
    expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(key?.kid).toMatch(KEY_ID);
    expect(files.map((file) => file.name)).toEqual([`${key?.kid}.rsa.pub`]);
    expect(files[0]?.name).toMatch(KEY_NAME);

    const index = await apk.index("acme", acmeToken, keyring);
    const file = `${key?.kid}.rsa.pub`;
    expect(index.signatures).toEqual([
      { entry: `.SIGN.RSA256.${file}`, algorithm: "sha256", keyName: file, verdict: "ok" },
    ]);
    expect(listed(index)).toEqual(await entitledToAcme());
    expect(listed(index)).toEqual([
      "base-files-1.0-r0",
      "dev-shell-1.0-r0",
      "jq-1.6-r0",
      "tool-3.12.7-r1",
    ]);
    const tool = index.entries.find((entry) => entry.name === "tool");
    expect(tool).toMatchObject({ arch: ARCH, depends: ["base-files"], license: "MIT" });
    expect(tool?.checksum).toMatch(/^Q1/);
    expect(tool?.size).toBeGreaterThan(0);
    expect(tool?.installedSize).toBeGreaterThan(0);
  });

  it("names the repository by organization id or name, with an apk token or an API key", async () => {
    const byName = await apk.index("acme", acmeToken);
    const byId = await apk.index(platform.acmeId, platform.acme.viewer.apiKey);
    expect(listed(byId)).toEqual(listed(byName));
    const asAdministrator = await apk.index("acme", platform.adminKey);
    expect(listed(asAdministrator)).toEqual(listed(byName));
  });

  it("answers 304 to a client that already has the current index", async () => {
    const path = `/apk/acme/${ARCH}/APKINDEX.tar.gz`;
    const first = await apk.get(path, basic(acmeToken));
    const etag = first.headers.get("etag") ?? "";
    expect(etag).not.toBe("");
    const again = await apk.get(path, { ...basic(acmeToken), "if-none-match": etag });
    expect(again.status).toBe(304);
  });

  it("serves an entitled package whose bytes match its index entry", async () => {
    const index = await apk.index("acme", acmeToken);
    const entry = index.entries.find((e) => e.name === "tool");
    const response = await apk.get(`/apk/acme/${ARCH}/tool-3.12.7-r1.apk`, basic(acmeToken));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(Number(response.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.length).toBe(entry?.size);
    const pkg = await readPackage(bytes, { file: "tool-3.12.7-r1.apk" });
    expect(pkg.checksum).toBe(entry?.checksum);
    expect(pkg.pkginfo.pkgname).toBe("tool");

    const head = await apk.get(`/apk/acme/${ARCH}/tool-3.12.7-r1.apk`, basic(acmeToken), "HEAD");
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(bytes.length);
  });

  it("answers 404 for packages outside the entitlement and files that are not packages", async () => {
    for (const file of [
      "secret-tool-9.9-r0.apk",
      "tool-0.0.1-r0.apk",
      "tool-3.12.7-r1.tar.gz",
      "APKINDEX.tar",
    ]) {
      const response = await apk.get(`/apk/acme/${ARCH}/${file}`, basic(acmeToken));
      expect(response.status, file).toBe(404);
    }
    const otherArch = await apk.get("/apk/acme/aarch64/APKINDEX.tar.gz", basic(acmeToken));
    expect(otherArch.status).toBe(404);
  });

  it("tells where the keys are and serves each key as <kid>.rsa.pub, beside the repository and under keys/", async () => {
    const response = await apk.get("/apk/acme/apk-configuration", basic(acmeToken));
    expect(response.status).toBe(200);
    const { jwks_uri } = (await response.json()) as { jwks_uri: string };
    expect(jwks_uri).toBe(`${platform.url}/apk/acme/jwks.json`);
    const { jwks, files } = await apk.discoverKeys("acme", acmeToken);
    expect(files.map((file) => file.url)).toEqual(
      jwks.keys.map((jwk) => `${platform.url}/apk/acme/${jwk.kid}.rsa.pub`),
    );
    for (const [i, jwk] of jwks.keys.entries()) {
      const pem = files[i]?.pem ?? "";
      expect(pem).toContain("-----BEGIN PUBLIC KEY-----");
      expect(pem.trim()).toBe(pemOf(jwk).trim());
      const response = await apk.get(`/apk/acme/${jwk.kid}.rsa.pub`, basic(acmeToken));
      expect(response.headers.get("content-type")).toMatch(/^application\/x-pem-file/);
      const underKeys = await apk.get(`/apk/acme/keys/${fileOf(jwk)}`, basic(acmeToken));
      expect(underKeys.status).toBe(200);
      expect(await underKeys.text()).toBe(pem);
    }
    for (const path of [
      "/apk/acme/acme-20200101-00000000.rsa.pub",
      "/apk/acme/keys/acme-20200101-00000000.rsa.pub",
      `/apk/acme/${jwks.keys[0]?.kid}`,
      `/apk/acme/${jwks.keys[0]?.kid}.pub`,
    ]) {
      const missing = await apk.get(path, basic(acmeToken));
      expect(missing.status, path).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
  });

  it("answers 503, not a 500, for a listed package whose bytes are missing from the shared store", async () => {
    const { blobDigest } = await platform.catalog.fetchPackage(
      { repository: "acme-tools", arch: ARCH, name: "dev-shell", version: "1.0-r0" },
      platform.admin,
    );
    const digest = blobDigest as BlobDigest;
    const bytes = await readBlob(platform.blobs, digest);
    const path = `/apk/acme/${ARCH}/dev-shell-1.0-r0.apk`;
    expect(await platform.blobs.delete(digest)).toBe(true);
    try {
      for (const method of ["GET", "HEAD"]) {
        const response = await apk.get(path, basic(acmeToken), method);
        expect(response.status, method).toBe(503);
        expect(response.headers.get("retry-after"), method).not.toBeNull();
        expect(response.headers.get("cache-control"), method).toBe("no-store");
        expect(response.headers.get("etag"), method).toBeNull();
        expect(response.headers.get("content-type"), method).toMatch(/^application\/json/);
        if (method === "GET") {
          const body = (await response.json()) as { error: { code: string; message: string } };
          expect(body.error.code).toBe("UNAVAILABLE");
          expect(body.error.message).toContain("dev-shell-1.0-r0.apk");
        }
      }
    } finally {
      await platform.blobs.put(bytes, { expectedDigest: digest });
    }
    const restored = await apk.get(path, basic(acmeToken));
    expect(restored.status).toBe(200);
    expect(Number(restored.headers.get("content-length"))).toBe(bytes.length);
    expect(Buffer.from(await restored.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  });

  it("refuses tokens of another audience and bad passwords with 401", async () => {
    for (const password of [registryToken, "not-a-token", `${acmeToken}x`]) {
      const response = await apk.get(`/apk/acme/${ARCH}/APKINDEX.tar.gz`, basic(password));
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="Tailor APK repository"');
    }
    const bearer = await apk.get(`/apk/acme/${ARCH}/APKINDEX.tar.gz`, {
      authorization: `Bearer ${acmeToken}`,
    });
    expect(bearer.status).toBe(401);
  });

  describe("another organization's credentials", () => {
    let acmeKid: string;
    beforeAll(async () => {
      acmeKid = (await apk.jwks("acme", acmeToken)).keys[0]?.kid ?? "";
    });
    const routes = [
      { what: "index", path: (org: string) => `/apk/${org}/${ARCH}/APKINDEX.tar.gz` },
      { what: "entitled package", path: (org: string) => `/apk/${org}/${ARCH}/tool-3.12.7-r1.apk` },
      { what: "granted package", path: (org: string) => `/apk/${org}/${ARCH}/jq-1.6-r0.apk` },
      { what: "key discovery", path: (org: string) => `/apk/${org}/apk-configuration` },
      { what: "JWKS", path: (org: string) => `/apk/${org}/jwks.json` },
      { what: "key file", path: (org: string) => `/apk/${org}/${acmeKid}.rsa.pub` },
      {
        what: "key file under keys/",
        path: (org: string) => `/apk/${org}/keys/${acmeKid}.rsa.pub`,
      },
    ];
    for (const route of routes) {
      it(`get 404 for acme's ${route.what}, by name and by id, like for no organization at all`, async () => {
        const nowhere = await apk.get(route.path("no-such-org"), basic(globexToken));
        expect(nowhere.status).toBe(404);
        const nowhereBody = (await nowhere.json()) as { error: { code: string } };
        for (const org of ["acme", platform.acmeId]) {
          for (const password of [globexToken, platform.globex.owner.apiKey]) {
            const response = await apk.get(route.path(org), basic(password));
            expect(response.status, `${route.what} of ${org}`).toBe(404);
            const body = (await response.json()) as { error: { code: string; message: string } };
            expect(body.error.code).toBe(nowhereBody.error.code);
            expect(body.error.message).toBe(`no APK repository "${org}"`);
          }
        }
      });
    }
  });

  it("lists a newly granted package at once when the cache window is 0, and drops it when revoked", async () => {
    const admin = platform.admin;
    await platform.entitlement.grantPackage(
      { orgId: platform.acmeId, packageName: "secret-tool", reason: "test" },
      admin,
    );
    try {
      const index = await apk.index("acme", acmeToken);
      expect(listed(index)).toContain("secret-tool-9.9-r0");
      expect(listed(index)).toEqual(await entitledToAcme());
      const download = await apk.get(`/apk/acme/${ARCH}/secret-tool-9.9-r0.apk`, basic(acmeToken));
      expect(download.status).toBe(200);
    } finally {
      await platform.entitlement.revokePackageGrant(
        { orgId: platform.acmeId, packageName: "secret-tool" },
        admin,
      );
    }
    expect(listed(await apk.index("acme", acmeToken))).not.toContain("secret-tool-9.9-r0");
    const download = await apk.get(`/apk/acme/${ARCH}/secret-tool-9.9-r0.apk`, basic(acmeToken));
    expect(download.status).toBe(404);
  });

  describe("on a gateway whose clock the test moves", () => {
    const DAY_MS = 24 * 60 * 60 * 1000;
    let clock = new Date("2026-12-01T00:00:00Z");
    let nats: TestNats;
    let pg: TestDatabase;
    let gateway: TestService;
    let db: Kysely<GatewayDatabase>;
    let second: ReturnType<typeof apkClient>;
    const advance = (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    };
    const advanceDays = (days: number) => advance(days * DAY_MS);
    const rotationDeps = () => ({
      db,
      config: loadGatewayConfig({ TAILOR_GATEWAY_APK_KEY_ROTATION_DAYS: "30" }),
      logger: testLogger(),
      now: () => clock,
    });

    beforeAll(async () => {
      nats = await createTestNats();
      pg = await createTestDatabase();
      // The platform's services, this gateway's own gRPC port, database and clock.
      const others = platformServices();
      gateway = await startTestService(
        createGatewayService({
          environment: {
            // The administrator's key serves as this gateway's service identity.
            TAILOR_SERVICE_API_KEY: platform.adminKey,
            TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS: "60",
            TAILOR_GATEWAY_APK_KEY_ROTATION_DAYS: "30",
            TAILOR_GATEWAY_AUTH_FAILURE_LIMIT: "5",
          },
          blobs: platform.blobs,
          now: () => clock,
        }),
        { database: pg.database, nats, config: await testPlatformConfig(nats, others) },
      );
      second = apkClient(() => gateway.running.info.httpUrl ?? "");
      db = pg.database.forSchema<GatewayDatabase>("gateway");
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await pg?.cleanup();
      await nats?.cleanup();
    });

    it("creates one key for concurrent first requests", async () => {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => second.jwks("globex", globexToken)),
      );
      const kids = new Set(answers.flatMap((jwks) => jwks.keys.map((key) => key.kid)));
      expect(kids.size).toBe(1);
      expect([...kids][0]).toMatch(/^globex-20261201-[0-9a-f]{8}$/);
      const empty = await second.index("globex", globexToken, keyringOf(answers[0]?.keys ?? []));
      expect(empty.entries).toEqual([]);
    });

    it("keeps an index for the cache window, then shows a new grant", async () => {
      const before = await second.index("acme", acmeToken);
      expect(listed(before)).not.toContain("secret-tool-9.9-r0");
      await platform.entitlement.grantPackage(
        { orgId: platform.acmeId, packageName: "secret-tool", reason: "test" },
        platform.admin,
      );
      try {
        advance(30_000); // inside the 60 s window
        expect(listed(await second.index("acme", acmeToken))).toEqual(listed(before));
        const cached = await second.get(
          `/apk/acme/${ARCH}/secret-tool-9.9-r0.apk`,
          basic(acmeToken),
        );
        expect(cached.status).toBe(404);
        advance(31_000); // past the window
        expect(listed(await second.index("acme", acmeToken))).toContain("secret-tool-9.9-r0");
      } finally {
        await platform.entitlement.revokePackageGrant(
          { orgId: platform.acmeId, packageName: "secret-tool" },
          platform.admin,
        );
      }
      advance(61_000);
      expect(listed(await second.index("acme", acmeToken))).not.toContain("secret-tool-9.9-r0");
    });

    it("rotates keys with an overlap, by age and on demand, and retires them from the JWKS", async () => {
      const acme = { id: platform.acmeId, name: "acme" };
      const first = await second.jwks("acme", acmeToken);
      expect(first.keys).toHaveLength(1);
      const k1 = first.keys[0] as RepositoryJwk;
      const onlyK1 = keyringOf([k1]);

      // On demand: the new key signs, the previous one co-signs so clients trusting it still update.
      advanceDays(1);
      const rotated = await rotateApkRepositoryKey(rotationDeps(), acme);
      expect(rotated.name).toMatch(KEY_NAME);
      expect(rotated).not.toHaveProperty("privateKeyPem");
      const both = await second.jwks("acme", acmeToken);
      expect(both.keys.map(fileOf)).toEqual([rotated.name, fileOf(k1)]);
      const k2 = both.keys[0] as RepositoryJwk;
      const overlapping = await second.index("acme", acmeToken, keyringOf(both.keys));
      expect(signers(overlapping)).toEqual([fileOf(k2), fileOf(k1)]);
      expect(overlapping.signatures.every((s) => s.verdict === "ok")).toBe(true);
      const oldClient = await second.index("acme", acmeToken, onlyK1);
      expect(oldClient.signatures.find((s) => s.keyName === fileOf(k1))?.verdict).toBe("ok");
      const newClient = await second.index("acme", acmeToken, keyringOf([k2]));
      expect(newClient.signatures.find((s) => s.keyName === fileOf(k2))?.verdict).toBe("ok");

      // By age: 31 days after k2 was made it is replaced on use; k1's overlap has ended.
      advanceDays(31);
      const aged = await second.index("acme", acmeToken);
      const k3 = signers(aged)[0] ?? "";
      expect(k3).toMatch(KEY_NAME);
      expect(signers(aged)).toEqual([k3, fileOf(k2)]);
      await expect(second.index("acme", acmeToken, onlyK1)).rejects.toThrow(/not in the keyring/);
      const afterAging = await second.jwks("acme", acmeToken);
      expect(afterAging.keys.map(fileOf)).toEqual([k3, fileOf(k2), fileOf(k1)]);
      await second.index("acme", acmeToken, keyringOf(afterAging.keys));

      // k1 stopped signing 31 days after its retirement and leaves the JWKS 30 days later.
      advanceDays(29.5);
      expect((await second.jwks("acme", acmeToken)).keys.map(fileOf)).toEqual([k3, fileOf(k2)]);
      for (const path of [`/apk/acme/${fileOf(k1)}`, `/apk/acme/keys/${fileOf(k1)}`]) {
        const k1File = await second.get(path, basic(acmeToken));
        expect(k1File.status, path).toBe(404);
      }

      // A leaked key: the replacement alone signs and the leaked key leaves the JWKS at once.
      const replacement = await rotateApkRepositoryKey(rotationDeps(), acme, { immediate: true });
      const afterLeak = await second.jwks("acme", acmeToken);
      expect(afterLeak.keys.map(fileOf)).not.toContain(k3);
      expect(afterLeak.keys[0] === undefined ? "" : fileOf(afterLeak.keys[0])).toBe(
        replacement.name,
      );
      const fresh = await second.index("acme", acmeToken, keyringOf(afterLeak.keys));
      expect(signers(fresh)).toEqual([replacement.name]);
    });

    it("reads private keys only to sign: the JWKS, key files and key listings see public halves", async () => {
      const keys = createApkRepositoryKeys({
        db,
        rotationDays: 30,
        now: () => clock,
        logger: testLogger(),
      });
      const acme = { id: platform.acmeId, name: "acme" };
      const published = await keys.publishedKeys(acme);
      const signing = await keys.signingKeys(acme);
      expect(published.length).toBeGreaterThan(0);
      expect(signing.length).toBeGreaterThan(0);
      for (const key of [...published, ...signing]) {
        expect(key.publicKeyPem).toContain("BEGIN PUBLIC KEY");
        expect(key).not.toHaveProperty("privateKeyPem");
      }
      const pairs = await keys.signingKeyPairs(acme);
      expect(pairs.map((key) => key.name)).toEqual(signing.map((key) => key.name));
      for (const key of pairs) expect(key.privateKeyPem).toContain("BEGIN PRIVATE KEY");
    });

    // Last: it leaves this gateway refusing the test's address for a minute.
    it("answers 429 with Retry-After after too many failed authentications", async () => {
      const path = `/apk/acme/${ARCH}/APKINDEX.tar.gz`;
      for (let attempt = 0; attempt < 5; attempt++) {
        const response = await second.get(path, basic(`wrong-${attempt}`));
        expect(response.status).toBe(401);
      }
      const limited = await second.get(path, basic("wrong-again"));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      // The address is over its limit: a credential that needs the entitlement
      // service waits, even a good API key; a token that verifies locally still
      // gets in, so one guesser cannot lock out the rest of its network.
      expect((await second.get(path, basic(platform.acme.editor.apiKey))).status).toBe(429);
      expect((await second.get(path, basic(acmeToken))).status).toBe(200);
    });
  });

  /**
   * A gateway of the test's own (database, NATS namespace) in front of the
   * platform's services, with `environment` and `blobs`.
   */
  async function startOwnGateway(environment: Environment, blobs: BlobStore) {
    const nats = await createTestNats();
    const pg = await createTestDatabase();
    const gateway = await startTestService(createGatewayService({ environment, blobs }), {
      database: pg.database,
      nats,
      config: await testPlatformConfig(nats, platformServices()),
    }).catch(async (error: unknown) => {
      await pg.cleanup();
      await nats.cleanup();
      throw error;
    });
    return {
      client: apkClient(() => gateway.running.info.httpUrl ?? ""),
      async stop() {
        await gateway.stop();
        await pg.cleanup();
        await nats.cleanup();
      },
    };
  }

  describe("on a gateway whose blob store lacks a package the catalog has", () => {
    let gateway: Awaited<ReturnType<typeof startOwnGateway>>;
    let emptyDir: string;
    let empty: BlobStore;

    beforeAll(async () => {
      emptyDir = await mkdtemp(join(tmpdir(), "tailor-empty-blobs-"));
      empty = await createDirectoryBlobStore({ root: emptyDir });
      // The administrator's key serves as this gateway's service identity.
      gateway = await startOwnGateway({ TAILOR_SERVICE_API_KEY: platform.adminKey }, empty);
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await empty?.close();
      if (emptyDir !== undefined) await rm(emptyDir, { recursive: true, force: true });
    });

    it("answers 503 with Retry-After, and no package headers, instead of streaming nothing", async () => {
      const path = `/apk/acme/${ARCH}/tool-3.12.7-r1.apk`;
      for (const method of ["GET", "HEAD"]) {
        const response = await gateway.client.get(path, basic(acmeToken), method);
        expect(response.status, method).toBe(503);
        expect(response.headers.get("retry-after"), method).not.toBeNull();
        expect(response.headers.get("cache-control"), method).toBe("no-store");
        expect(response.headers.get("etag"), method).toBeNull();
        if (method === "GET") {
          const body = (await response.json()) as { error: { code: string; message: string } };
          expect(body.error.code).toBe("UNAVAILABLE");
          expect(body.error.message).toContain("tool-3.12.7-r1.apk");
        }
      }
      // The index itself needs no package bytes.
      expect((await gateway.client.index("acme", acmeToken)).entries.length).toBeGreaterThan(0);
    });
  });

  describe("on a gateway whose own service identity is refused", () => {
    let gateway: Awaited<ReturnType<typeof startOwnGateway>>;
    let refused: ReturnType<typeof apkClient>;

    beforeAll(async () => {
      // A well-formed API key the entitlement service never issued.
      gateway = await startOwnGateway(
        { TAILOR_SERVICE_API_KEY: generateApiKey().credential },
        platform.blobs,
      );
      refused = gateway.client;
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
    });

    it("answers 503 without a challenge, not 401: the client's password was fine", async () => {
      for (const [path, password] of [
        [`/apk/acme/${ARCH}/APKINDEX.tar.gz`, acmeToken],
        [`/apk/acme/${ARCH}/tool-3.12.7-r1.apk`, platform.acme.viewer.apiKey],
        // An administrator's organization lookup is made as the gateway too.
        ["/apk/acme/apk-configuration", platform.adminKey],
      ] as const) {
        const response = await refused.get(path, basic(password));
        expect(response.status, path).toBe(503);
        expect(response.headers.get("www-authenticate"), path).toBeNull();
        expect(response.headers.get("cache-control"), path).toBe("no-store");
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code, path).toBe("UNAVAILABLE");
        expect(body.error.message, path).toMatch(/service identity/);
      }
      // Wrong passwords are still the client's: 401 with the challenge.
      const wrong = await refused.get(`/apk/acme/${ARCH}/APKINDEX.tar.gz`, basic("not-a-key"));
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toBe('Basic realm="Tailor APK repository"');
    });
  });
});
