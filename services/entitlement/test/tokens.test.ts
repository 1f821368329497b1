// Tokens over real gRPC against Postgres and NATS: the bootstrap
// administrator, audiences, lifetimes, exchange, expiry, key rotation, and
// what two replicas starting at once do.
import { createTokenVerifier, generateApiKey, generateSigningKey } from "@tailor/auth";
import type { PlatformConfig } from "@tailor/config";
import { ConfigError } from "@tailor/config";
import { createDatabase, sql } from "@tailor/db";
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  testLogger,
  testPlatformConfig,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  entitlementMigrations,
  MAX_TOKEN_TTL_SECONDS,
} from "../src/index.js";
import type { EntitlementDatabase } from "../src/store/entitlement-database.js";
import { createTokenKeyring } from "../src/tokens/token-keyring.js";
import type {
  EntitlementClient,
  Member,
  StartedWithOrganization,
  TestClock,
} from "./entitlement-harness.js";
import {
  as,
  createMember,
  createTestClock,
  failureOf,
  startEntitlement,
  startWithOrganization,
  tokenFor,
} from "./entitlement-harness.js";

const { API, REGISTRY, APK, UNSPECIFIED } = entitlementV1.Audience;

function lifetimeOf(response: entitlementV1.IssueTokenResponse): number {
  return Number(response.claims?.expiresAt?.seconds) - Number(response.claims?.issuedAt?.seconds);
}

describe("tokens", () => {
  let started: StartedWithOrganization;
  let clock: TestClock;
  let client: EntitlementClient;
  let admin: CallOptions;
  let orgId: string;
  let owner: Member;

  beforeAll(async () => {
    clock = createTestClock();
    started = await startWithOrganization({ clock });
    ({ client, admin, orgId } = started);
    owner = await createMember(client, admin, orgId, "olivia", entitlementV1.Role.OWNER);
  });

  afterAll(async () => {
    await started?.stop();
  });

  it("turns the bootstrap administrator key into an administrator's api token", async () => {
    const issued = await client.issueToken({ apiKey: started.running.adminKey, audience: API });
    expect(issued.claims).toMatchObject({
      subjectName: "admin",
      administrator: true,
      orgId: "",
      audience: API,
      role: entitlementV1.Role.UNSPECIFIED,
    });
    expect(issued.token.split(".")).toHaveLength(3);
    expect(issued.expiresAt).toEqual(issued.claims?.expiresAt);
  });

  it("mints tokens carrying the organization, its name and the role from the database", async () => {
    const issued = await client.issueToken({ apiKey: owner.apiKey, audience: API });
    expect(issued.claims).toMatchObject({
      subject: owner.identity.id,
      subjectName: "olivia",
      orgId,
      orgName: "acme",
      role: entitlementV1.Role.OWNER,
      administrator: false,
    });
  });

  it("mints one token per audience, and a registry or apk token cannot call the API", async () => {
    const registry = await client.issueToken({ apiKey: owner.apiKey, audience: REGISTRY });
    const apk = await client.issueToken({ apiKey: owner.apiKey, audience: APK });
    expect(registry.claims?.audience).toBe(REGISTRY);
    expect(apk.claims?.audience).toBe(APK);
    for (const token of [registry.token, apk.token]) {
      const refused = await failureOf(client.listOrganizations({}, as(token)));
      expect(refused.code).toBe(Code.UNAUTHENTICATED);
      expect(refused.reason).toBe("token_wrong_audience");
    }
    const unspecified = await failureOf(
      client.issueToken({ apiKey: owner.apiKey, audience: UNSPECIFIED }),
    );
    expect(unspecified.code).toBe(Code.INVALID_ARGUMENT);
    expect(unspecified.field).toBe("audience");
  });

  it("gives tokens the default lifetime, the requested one, or the maximum at most", async () => {
    const defaulted = await client.issueToken({ apiKey: owner.apiKey, audience: API });
    expect(lifetimeOf(defaulted)).toBe(DEFAULT_TOKEN_TTL_SECONDS);
    expect(DEFAULT_TOKEN_TTL_SECONDS).toBe(15 * 60);
    const short = await client.issueToken({ apiKey: owner.apiKey, audience: API, ttlSeconds: 60 });
    expect(lifetimeOf(short)).toBe(60);
    const long = await client.issueToken({
      apiKey: owner.apiKey,
      audience: API,
      ttlSeconds: 1_000_000,
    });
    expect(lifetimeOf(long)).toBe(MAX_TOKEN_TTL_SECONDS);
    expect(MAX_TOKEN_TTL_SECONDS).toBe(12 * 3600);
  });

  it("exchanges the caller's api token for another audience, never outliving it", async () => {
    const original = await client.issueToken({
      apiKey: owner.apiKey,
      audience: API,
      ttlSeconds: 120,
    });
    const exchanged = await client.issueToken(
      { audience: REGISTRY, ttlSeconds: 3600 },
      as(original.token),
    );
    expect(exchanged.claims?.audience).toBe(REGISTRY);
    expect(exchanged.claims?.subject).toBe(owner.identity.id);
    expect(Number(exchanged.claims?.expiresAt?.seconds)).toBeLessThanOrEqual(
      Number(original.claims?.expiresAt?.seconds),
    );
    const registryAsBearer = await failureOf(
      client.issueToken({ audience: APK }, as(exchanged.token)),
    );
    expect(registryAsBearer.reason).toBe("token_wrong_audience");
    const nothing = await failureOf(client.issueToken({ audience: REGISTRY }));
    expect(nothing.code).toBe(Code.UNAUTHENTICATED);
    expect(nothing.reason).toBe("missing_token");
  });

  it("limits registry tokens to scopes; other audiences cannot carry them", async () => {
    const scoped = await client.issueToken({
      apiKey: owner.apiKey,
      audience: REGISTRY,
      scopes: ["repository:acme/api:pull", "repository:acme/web:pull", "repository:acme/api:pull"],
    });
    expect(scoped.claims?.scopes).toEqual(["repository:acme/api:pull", "repository:acme/web:pull"]);
    const verifier = createTokenVerifier({
      keys: async () =>
        (await client.getTokenKeys({})).keys.map((key) => ({
          id: key.id,
          publicKeyPem: key.publicKeyPem,
        })),
    });
    expect((await verifier.verify(scoped.token, "registry")).scopes).toEqual([
      "repository:acme/api:pull",
      "repository:acme/web:pull",
    ]);
    const unscoped = await client.issueToken({ apiKey: owner.apiKey, audience: REGISTRY });
    expect(unscoped.claims?.scopes).toEqual([]);
    expect((await verifier.verify(unscoped.token, "registry")).scopes).toBeUndefined();

    // An api token exchanged for a scoped registry token.
    const api = await client.issueToken({ apiKey: owner.apiKey, audience: API });
    const exchanged = await client.issueToken(
      { audience: REGISTRY, scopes: ["repository:acme/web:pull"] },
      as(api.token),
    );
    expect(exchanged.claims?.scopes).toEqual(["repository:acme/web:pull"]);

    const onApi = await failureOf(
      client.issueToken({
        apiKey: owner.apiKey,
        audience: API,
        scopes: ["repository:acme/api:pull"],
      }),
    );
    expect(onApi).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "scopes" });
    const malformed = await failureOf(
      client.issueToken({ apiKey: owner.apiKey, audience: REGISTRY, scopes: ["pull everything"] }),
    );
    expect(malformed).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "scopes[0]" });
  });

  it("verifies tokens for their audience and says why others fail", async () => {
    const registry = await tokenFor(client, owner.apiKey, "registry");
    const verified = await client.verifyToken({ token: registry, audience: REGISTRY });
    expect(verified.claims).toMatchObject({ subject: owner.identity.id, orgName: "acme" });

    const wrongAudience = await failureOf(client.verifyToken({ token: registry, audience: API }));
    expect(wrongAudience.code).toBe(Code.UNAUTHENTICATED);
    expect(wrongAudience.reason).toBe("token_wrong_audience");

    const [header, payload, signature] = registry.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: "owner", org: "x" })).toString(
      "base64url",
    );
    const tampered = await failureOf(
      client.verifyToken({ token: `${header}.${forged}.${signature}`, audience: REGISTRY }),
    );
    expect(tampered.reason).toBe("token_bad_signature");
    const garbage = await failureOf(client.verifyToken({ token: "not-a-token", audience: API }));
    expect(garbage.reason).toBe("token_malformed");
    const nullHeader = await failureOf(
      client.verifyToken({ token: `bnVsbA.${payload}.${signature}`, audience: REGISTRY }),
    );
    expect(nullHeader.code).toBe(Code.UNAUTHENTICATED);
    expect(nullHeader.reason).toBe("token_malformed");
    const empty = await failureOf(client.verifyToken({ token: "", audience: API }));
    expect(empty.code).toBe(Code.INVALID_ARGUMENT);
    expect(empty.field).toBe("token");
  });

  it("refuses an expired token", async () => {
    const token = await tokenFor(client, owner.apiKey);
    await client.listOrganizations({}, as(token));
    clock.offsetMs = (DEFAULT_TOKEN_TTL_SECONDS + 60) * 1000;
    try {
      const refused = await failureOf(client.listOrganizations({}, as(token)));
      expect(refused.code).toBe(Code.UNAUTHENTICATED);
      expect(refused.reason).toBe("token_expired");
      const verified = await failureOf(client.verifyToken({ token, audience: API }));
      expect(verified.reason).toBe("token_expired");
      const exchanged = await failureOf(client.issueToken({ audience: REGISTRY }, as(token)));
      expect(exchanged.reason).toBe("token_expired");
    } finally {
      clock.offsetMs = 0;
    }
  });

  it("rotates the signing key: old tokens still verify, new ones use the new key, both are published", async () => {
    const before = await client.getTokenKeys({});
    expect(before.keys).toHaveLength(1);
    const oldKey = before.keys[0];
    expect(oldKey?.algorithm).toBe("EdDSA");
    expect(oldKey?.retiredAt).toBeUndefined();
    const oldToken = await tokenFor(client, owner.apiKey);

    const denied = await failureOf(client.rotateSigningKey({}, owner.call));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    const rotated = await client.rotateSigningKey({}, admin);
    const newKey = rotated.key;
    expect(newKey?.id).not.toBe(oldKey?.id);

    const newToken = await client.issueToken({ apiKey: owner.apiKey, audience: API });
    expect(newToken.claims?.keyId).toBe(newKey?.id);
    const oldVerified = await client.verifyToken({ token: oldToken, audience: API });
    expect(oldVerified.claims?.keyId).toBe(oldKey?.id);
    // Still accepted by every call, too.
    await client.listOrganizations({}, as(oldToken));
    await client.listOrganizations({}, as(newToken.token));

    const after = await client.getTokenKeys({});
    expect(after.keys.map((k) => k.id)).toEqual([newKey?.id, oldKey?.id]);
    expect(after.keys[0]?.retiredAt).toBeUndefined();
    expect(after.keys[1]?.retiredAt).toBeDefined();

    // Another service verifies both tokens with the published keys alone.
    const verifier = createTokenVerifier({
      keys: async () => (await client.getTokenKeys({})).keys,
      clock: clock.now,
    });
    expect((await verifier.verify(oldToken, "api")).keyId).toBe(oldKey?.id);
    expect((await verifier.verify(newToken.token, "api")).keyId).toBe(newKey?.id);

    // Once no token signed by the old key can be valid, the key is no longer published.
    clock.offsetMs = (MAX_TOKEN_TTL_SECONDS + 120) * 1000;
    try {
      const later = await client.getTokenKeys({});
      expect(later.keys.map((k) => k.id)).toEqual([newKey?.id]);
    } finally {
      clock.offsetMs = 0;
    }
  });
});

describe("the bootstrap administrator and first signing key", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let config: PlatformConfig;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase();
    config = await testPlatformConfig(nats);
  });

  afterAll(async () => {
    await pg?.cleanup();
    await nats?.cleanup();
  });

  const db = () => pg.database.forSchema<EntitlementDatabase>("entitlement");

  it("creates exactly one current signing key when two replicas start at once", async () => {
    const adminKey = generateApiKey().credential;
    const otherConfig = await testPlatformConfig(nats);
    const [a, b] = await Promise.all([
      startEntitlement({ database: pg.database, nats, config, adminKey }),
      startEntitlement({ database: pg.database, nats, config: otherConfig, adminKey }),
    ]);
    try {
      const keysA = await a.client.getTokenKeys({});
      const keysB = await b.client.getTokenKeys({});
      expect(keysA.keys).toHaveLength(1);
      expect(keysB.keys.map((k) => k.id)).toEqual(keysA.keys.map((k) => k.id));
      const current = await sql<{ count: string }>`
        select count(*) as count from entitlement.token_signing_keys where retired_at is null`.execute(
        db(),
      );
      expect(current.rows[0]?.count).toBe("1");
      const admins = await db()
        .selectFrom("identities")
        .select("id")
        .where("administrator", "=", true)
        .execute();
      expect(admins).toHaveLength(1);
      // A token minted by one replica works on the other.
      const token = await tokenFor(a.client, adminKey);
      await b.client.listOrganizations({}, as(token));
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("lets only one of many racing first starts create the signing key", async () => {
    const fresh = await createTestDatabase();
    const pools = await Promise.all(
      [1, 2, 3, 4].map(() => createDatabase({ url: fresh.url, logger: testLogger() })),
    );
    try {
      await fresh.database.migrate("entitlement", entitlementMigrations);
      const keys = await Promise.all(
        pools.map((pool) =>
          createTokenKeyring(
            pool.forSchema<EntitlementDatabase>("entitlement"),
            () => new Date(),
          ).ensureCurrentKey(),
        ),
      );
      expect(new Set(keys.map((key) => key.id)).size).toBe(1);
      // And the schema itself refuses a second current key.
      const second = generateSigningKey();
      const refused = await fresh.database
        .forSchema<EntitlementDatabase>("entitlement")
        .insertInto("token_signing_keys")
        .values({
          id: second.id,
          public_key_pem: second.publicKeyPem,
          private_key_pem: second.privateKeyPem,
        })
        .execute()
        .then(
          () => undefined,
          (error: unknown) => error as { code?: string },
        );
      expect(refused?.code).toBe("23505");
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
      await fresh.cleanup();
    }
  });

  it("keeps the same administrator across restarts and adds a changed key beside the old one", async () => {
    const firstKey = generateApiKey().credential;
    const first = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: firstKey,
    });
    const firstClaims = (await first.client.issueToken({ apiKey: firstKey, audience: API })).claims;
    await first.stop();

    const again = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: firstKey,
    });
    const againClaims = (await again.client.issueToken({ apiKey: firstKey, audience: API })).claims;
    expect(againClaims?.subject).toBe(firstClaims?.subject);
    await again.stop();

    const secondKey = generateApiKey().credential;
    const changed = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: secondKey,
    });
    try {
      const viaNew = await changed.client.issueToken({ apiKey: secondKey, audience: API });
      const viaOld = await changed.client.issueToken({ apiKey: firstKey, audience: API });
      expect(viaNew.claims?.subject).toBe(firstClaims?.subject);
      expect(viaOld.claims?.subject).toBe(firstClaims?.subject);
      const keys = await changed.client.listApiKeys(
        { identityId: firstClaims?.subject ?? "" },
        as(viaNew.token),
      );
      // The earlier replicas' key is there too: every bootstrap key stays until revoked.
      expect(keys.apiKeys.map((k) => k.id)).toEqual(
        expect.arrayContaining([firstKey.slice(4, 16), secondKey.slice(4, 16)]),
      );
      expect(keys.apiKeys[0]?.id).toBe(secondKey.slice(4, 16));
    } finally {
      await changed.stop();
    }
  });

  it("refuses to start when the key id is taken by another secret, or the value is not an API key", async () => {
    const taken = generateApiKey().credential;
    const ok = await startEntitlement({ database: pg.database, nats, config, adminKey: taken });
    await ok.stop();
    const sameIdOtherSecret = `${taken.slice(0, 17)}${"B".repeat(43)}`;
    const conflict = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: sameIdOtherSecret,
    }).then(
      (started) => started.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect((conflict as Error)?.name).toBe("BootstrapKeyConflictError");
    expect((conflict as Error).message).not.toContain("B".repeat(43));

    const secret = "not-an-api-key-but-a-secret";
    const invalid = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: secret,
    }).then(
      (started) => started.stop().then(() => undefined),
      (error: unknown) => error,
    );
    expect(invalid).toBeInstanceOf(ConfigError);
    expect((invalid as ConfigError).message).toContain("TAILOR_BOOTSTRAP_ADMIN_KEY");
    expect((invalid as ConfigError).message).not.toContain(secret);
  });
});
