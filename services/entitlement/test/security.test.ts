// Regressions of the security review: what a removed or demoted member's
// still-valid token may do, how long a token minted from an expiring API key
// lives, oversized input in error messages, and the bootstrap administrator
// deleting itself.
import { createTokenSigner, generateApiKey } from "@tailor/auth";
import type { PlatformConfig } from "@tailor/config";
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats } from "@tailor/testing";
import { createTestDatabase, createTestNats, testPlatformConfig } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntitlementDatabase } from "../src/store/entitlement-database.js";
import type {
  EntitlementClient,
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

const { OWNER, EDITOR, VIEWER } = entitlementV1.Role;
const { API } = entitlementV1.Audience;
const DAY_SECONDS = 24 * 60 * 60;

describe("security review regressions", () => {
  let started: StartedWithOrganization;
  let clock: TestClock;
  let client: EntitlementClient;
  let admin: CallOptions;
  let orgId: string;

  beforeAll(async () => {
    clock = createTestClock();
    started = await startWithOrganization({ clock });
    ({ client, admin, orgId } = started);
  });

  afterAll(async () => {
    await started?.stop();
  });

  it("stops a deleted owner's unexpired token from planting a new identity or key", async () => {
    const fired = await createMember(client, admin, orgId, "fired-owner", OWNER);
    await client.deleteIdentity({ identityId: fired.identity.id }, admin);

    // Its token is still inside its lifetime, but the identity is gone.
    const planted = await failureOf(
      client.createIdentity({ orgId, name: "backdoor", role: OWNER }, fired.call),
    );
    expect(planted.code).toBe(Code.UNAUTHENTICATED);
    expect(planted.reason).toBe("identity_deleted");
    expect((await failureOf(client.listIdentities({ orgId }, fired.call))).code).toBe(
      Code.UNAUTHENTICATED,
    );
    const names = (await client.listIdentities({ orgId }, admin)).identities.map((i) => i.name);
    expect(names).not.toContain("backdoor");
    // Nor can it be exchanged for a registry or apk token.
    const exchanged = await failureOf(
      client.issueToken({ audience: entitlementV1.Audience.REGISTRY }, fired.call),
    );
    expect(exchanged.code).toBe(Code.UNAUTHENTICATED);
  });

  it("acts on the caller's current role, not the role its token was minted with", async () => {
    const demoted = await createMember(client, admin, orgId, "demoted-owner", OWNER);
    await client.setIdentityRole({ identityId: demoted.identity.id, role: VIEWER }, admin);

    const planted = await failureOf(
      client.createIdentity({ orgId, name: "backdoor-2", role: OWNER }, demoted.call),
    );
    expect(planted.code).toBe(Code.PERMISSION_DENIED);
    expect(planted.message).toContain('"viewer"');
    // Reading stays allowed: a viewer may list identities.
    expect(
      (await client.listIdentities({ orgId }, demoted.call)).identities.length,
    ).toBeGreaterThan(0);
  });

  it("lets nobody raise their own role or create roles the proto does not have", async () => {
    const editor = await createMember(client, admin, orgId, "eddie", EDITOR);
    const raised = await failureOf(
      client.setIdentityRole({ identityId: editor.identity.id, role: OWNER }, editor.call),
    );
    expect(raised.code).toBe(Code.PERMISSION_DENIED);
    const owner = await createMember(client, admin, orgId, "ophelia", OWNER);
    for (const role of [entitlementV1.Role.UNSPECIFIED, 7 as entitlementV1.Role]) {
      const refused = await failureOf(
        client.setIdentityRole({ identityId: editor.identity.id, role }, owner.call),
      );
      expect(refused.code).toBe(Code.INVALID_ARGUMENT);
      expect(refused.field).toBe("role");
      const created = await failureOf(
        client.createIdentity({ orgId, name: "nobody", role }, owner.call),
      );
      expect(created.field).toBe("role");
    }
  });

  it("never mints a token that outlives the API key it was minted with", async () => {
    const member = await createMember(client, admin, orgId, "short-lived", VIEWER);
    const { apiKey, secret } = await client.createApiKey(
      { identityId: member.identity.id, ttlDays: 1 },
      member.call,
    );
    const keyExpiresAt = Number(apiKey?.expiresAt?.seconds);
    clock.offsetMs = (DAY_SECONDS - 600) * 1000;
    try {
      const issued = await client.issueToken({ apiKey: secret, audience: API, ttlSeconds: 3600 });
      expect(Number(issued.expiresAt?.seconds)).toBeLessThanOrEqual(keyExpiresAt);
      expect(Number(issued.expiresAt?.seconds)).toBeGreaterThan(keyExpiresAt - 620);
    } finally {
      clock.offsetMs = 0;
    }
  });

  it("answers oversized input with a short message naming the field", async () => {
    const owner = await createMember(client, admin, orgId, "big-input-owner", OWNER);
    const huge = "x".repeat(200_000);
    const cases: { call: () => Promise<unknown>; field: string; code: Code }[] = [
      {
        call: () => client.createIdentity({ orgId, name: huge, role: VIEWER }, owner.call),
        field: "name",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.getOrganization({ name: huge }, owner.call),
        field: "name",
        code: Code.NOT_FOUND,
      },
      {
        call: () => client.getOrganization({ id: huge }, owner.call),
        field: "id",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.revokeApiKey({ apiKeyId: huge }, owner.call),
        field: "api_key_id",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.addPurchase({ orgId, sourceImage: huge }, admin),
        field: "source_image",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.grantPackage({ orgId, packageName: huge }, admin),
        field: "package_name",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.listOrganizations({ page: { token: huge } }, admin),
        field: "page.token",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () =>
          client.setCustomAssembly(
            {
              orgId,
              enabled: true,
              customizableSourceImages: Array.from({ length: 20_000 }, (_, i) => `image-${i}`),
            },
            admin,
          ),
        field: "customizable_source_images",
        code: Code.INVALID_ARGUMENT,
      },
      {
        call: () => client.createOrganization({ name: huge }, admin),
        field: "name",
        code: Code.INVALID_ARGUMENT,
      },
    ];
    for (const { call, field, code } of cases) {
      const error = await failureOf(call());
      expect({ field: error.field, code: error.code }).toEqual({ field, code });
      expect(error.message.length).toBeLessThan(400);
      expect(JSON.stringify(error.metadata).length).toBeLessThan(400);
    }
  });

  it("refuses a token the service's own key signed for a subject that does not exist", async () => {
    // Only the service holds the private key; this guards the lookup that
    // makes every call depend on a live identity.
    const { keys } = await client.getTokenKeys({});
    expect(keys[0]?.id).toBeDefined();
    const row = await started.pg.database
      .forSchema<EntitlementDatabase>("entitlement")
      .selectFrom("token_signing_keys")
      .selectAll()
      .where("retired_at", "is", null)
      .executeTakeFirstOrThrow();
    const signer = createTokenSigner({
      id: row.id,
      publicKeyPem: row.public_key_pem,
      privateKeyPem: row.private_key_pem,
    });
    const { token } = signer.sign(
      {
        subject: "00000000-0000-4000-8000-000000000000",
        subjectName: "ghost",
        orgId,
        orgName: "acme",
        role: "owner",
        administrator: false,
      },
      "api",
      600,
    );
    const refused = await failureOf(client.listIdentities({ orgId }, as(token)));
    expect(refused.code).toBe(Code.UNAUTHENTICATED);
  });
});

describe("the bootstrap administrator deleting itself", () => {
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

  it("still starts with the deleted administrator's key, which stays revoked; a new key works", async () => {
    const firstKey = generateApiKey().credential;
    const first = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: firstKey,
    });
    const issued = await first.client.issueToken({ apiKey: firstKey, audience: API });
    await first.client.deleteIdentity(
      { identityId: issued.claims?.subject ?? "" },
      as(issued.token),
    );
    await first.stop();

    const again = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: firstKey,
    });
    try {
      const refused = await failureOf(again.client.issueToken({ apiKey: firstKey, audience: API }));
      expect(refused.code).toBe(Code.UNAUTHENTICATED);
      expect(refused.reason).toBe("api_key_revoked");
    } finally {
      await again.stop();
    }

    const secondKey = generateApiKey().credential;
    const renewed = await startEntitlement({
      database: pg.database,
      nats,
      config,
      adminKey: secondKey,
    });
    try {
      const token = await tokenFor(renewed.client, secondKey);
      const created = await renewed.client.createOrganization({ name: "after-reset" }, as(token));
      expect(created.organization?.name).toBe("after-reset");
    } finally {
      await renewed.stop();
    }
  });
});
