// Identities, roles and API keys over real gRPC against Postgres and NATS:
// what each role may and may not do, keys shown once and stored hashed.
import { createHash, randomUUID } from "node:crypto";
import { toJsonString } from "@bufbuild/protobuf";
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntitlementDatabase } from "../src/store/entitlement-database.js";
import type {
  EntitlementClient,
  Member,
  StartedWithOrganization,
  TestClock,
} from "./entitlement-harness.js";
import {
  createMember,
  createTestClock,
  failureOf,
  startWithOrganization,
  tokenFor,
} from "./entitlement-harness.js";

const { OWNER, EDITOR, VIEWER } = entitlementV1.Role;

describe("identities and API keys", () => {
  let started: StartedWithOrganization;
  let clock: TestClock;
  let client: EntitlementClient;
  let admin: CallOptions;
  let orgId: string;
  let owner: Member;
  let editor: Member;
  let viewer: Member;

  beforeAll(async () => {
    clock = createTestClock();
    started = await startWithOrganization({ clock });
    ({ client, admin, orgId } = started);
    owner = await createMember(client, admin, orgId, "olivia", OWNER);
    editor = await createMember(client, admin, orgId, "eddie", EDITOR);
    viewer = await createMember(client, admin, orgId, "vic", VIEWER);
  });

  afterAll(async () => {
    await started?.stop();
  });

  it("lets owners create identities with any role, and refuses editors and viewers", async () => {
    const created = await client.createIdentity(
      { orgId, name: "ci-bot@acme", role: EDITOR },
      owner.call,
    );
    expect(created.identity).toMatchObject({
      orgId,
      name: "ci-bot@acme",
      role: EDITOR,
      administrator: false,
    });
    const second = await client.createIdentity(
      { orgId, name: "co-owner", role: OWNER },
      owner.call,
    );
    expect(second.identity?.role).toBe(OWNER);

    for (const member of [viewer, editor]) {
      const denied = await failureOf(
        client.createIdentity({ orgId, name: "sneaky", role: OWNER }, member.call),
      );
      expect(denied.code).toBe(Code.PERMISSION_DENIED);
      expect(denied.reason).toBe("role_insufficient");
      expect(denied.message).toContain('needs "owner"');
    }
  });

  it("validates identity names and roles, and keeps names unique in the organization", async () => {
    const taken = await failureOf(
      client.createIdentity({ orgId, name: "vic", role: VIEWER }, owner.call),
    );
    expect(taken.code).toBe(Code.ALREADY_EXISTS);
    expect(taken.field).toBe("name");
    expect(taken.message).toContain('identity name "vic" is already taken');
    const noRole = await failureOf(client.createIdentity({ orgId, name: "x" }, owner.call));
    expect(noRole.code).toBe(Code.INVALID_ARGUMENT);
    expect(noRole.field).toBe("role");
    const badName = await failureOf(
      client.createIdentity({ orgId, name: "no spaces", role: VIEWER }, owner.call),
    );
    expect(badName.code).toBe(Code.INVALID_ARGUMENT);
    expect(badName.field).toBe("name");
    const noOrg = await failureOf(client.createIdentity({ name: "x", role: VIEWER }, admin));
    expect(noOrg.code).toBe(Code.INVALID_ARGUMENT);
    expect(noOrg.field).toBe("org_id");
  });

  it("lists the organization's identities by name to any member", async () => {
    const listed = await client.listIdentities({ orgId }, viewer.call);
    const names = listed.identities.map((i) => i.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["eddie", "olivia", "vic"]));
    // The platform administrator belongs to no organization.
    expect(names).not.toContain("admin");
  });

  it("changes roles for owners only, and the next token carries the new role", async () => {
    const member = await createMember(client, admin, orgId, "promoted", VIEWER);
    const denied = await failureOf(
      client.setIdentityRole({ identityId: member.identity.id, role: OWNER }, editor.call),
    );
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    const changed = await client.setIdentityRole(
      { identityId: member.identity.id, role: EDITOR },
      owner.call,
    );
    expect(changed.identity?.role).toBe(EDITOR);
    const issued = await client.issueToken({
      apiKey: member.apiKey,
      audience: entitlementV1.Audience.API,
    });
    expect(issued.claims?.role).toBe(EDITOR);

    const adminId = (
      await client.verifyToken({
        token: (admin.metadata?.authorization ?? "").replace("Bearer ", ""),
        audience: entitlementV1.Audience.API,
      })
    ).claims?.subject;
    const noRole = await failureOf(
      client.setIdentityRole({ identityId: adminId ?? "", role: OWNER }, admin),
    );
    expect(noRole.code).toBe(Code.FAILED_PRECONDITION);
    expect(noRole.reason).toBe("administrator_has_no_role");
  });

  it("shows an API key's secret once and stores only its hash", async () => {
    const created = await client.createApiKey(
      { identityId: viewer.identity.id, description: "laptop" },
      owner.call,
    );
    const id = created.apiKey?.id ?? "";
    expect(created.secret).toMatch(new RegExp(`^tlr_${id}_[A-Za-z0-9_-]{43}$`));
    expect(created.apiKey?.description).toBe("laptop");
    expect(created.apiKey?.expiresAt).toBeUndefined();

    const listed = await client.listApiKeys({ identityId: viewer.identity.id }, owner.call);
    const listedKey = listed.apiKeys.find((k) => k.id === id);
    expect(listedKey?.description).toBe("laptop");
    const listedJson = toJsonString(entitlementV1.ListApiKeysResponseSchema, listed);
    expect(listedJson).not.toContain(created.secret.slice(-43));

    const db = started.pg.database.forSchema<EntitlementDatabase>("entitlement");
    const row = await db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    const secret = created.secret.slice(`tlr_${id}_`.length);
    expect(row.secret_hash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it("lets an identity manage its own keys, owners everyone's, and nobody else", async () => {
    const own = await client.createApiKey({ identityId: editor.identity.id }, editor.call);
    expect(own.apiKey?.identityId).toBe(editor.identity.id);
    const ownList = await client.listApiKeys({ identityId: editor.identity.id }, editor.call);
    // Newest first.
    expect(ownList.apiKeys[0]?.id).toBe(own.apiKey?.id);

    const forOther = await failureOf(
      client.createApiKey({ identityId: viewer.identity.id }, editor.call),
    );
    expect(forOther.code).toBe(Code.PERMISSION_DENIED);
    expect(forOther.message).toContain("may not create API keys for another identity");
    const listOther = await failureOf(
      client.listApiKeys({ identityId: owner.identity.id }, viewer.call),
    );
    expect(listOther.code).toBe(Code.PERMISSION_DENIED);
    const revokeOther = await failureOf(
      client.revokeApiKey({ apiKeyId: own.apiKey?.id ?? "" }, viewer.call),
    );
    expect(revokeOther.code).toBe(Code.PERMISSION_DENIED);

    const byOwner = await client.createApiKey(
      { identityId: editor.identity.id, ttlDays: 30 },
      owner.call,
    );
    const created = byOwner.apiKey?.createdAt;
    const expires = byOwner.apiKey?.expiresAt;
    expect(Number(expires?.seconds) - Number(created?.seconds)).toBe(30 * 24 * 3600);
    const tooLong = await failureOf(
      client.createApiKey({ identityId: editor.identity.id, ttlDays: 100_000 }, owner.call),
    );
    expect(tooLong.field).toBe("ttl_days");

    const revoked = await client.revokeApiKey({ apiKeyId: own.apiKey?.id ?? "" }, editor.call);
    expect(revoked.apiKey?.revokedAt).toBeDefined();
    // Revoking again changes nothing.
    const again = await client.revokeApiKey({ apiKeyId: own.apiKey?.id ?? "" }, owner.call);
    expect(again.apiKey?.revokedAt).toEqual(revoked.apiKey?.revokedAt);
  });

  it("refuses revoked, unknown and wrong-secret keys alike, without saying which id exists", async () => {
    const { apiKey, secret } = await client.createApiKey(
      { identityId: viewer.identity.id },
      owner.call,
    );
    const id = apiKey?.id ?? "";
    await tokenFor(client, secret);
    await client.revokeApiKey({ apiKeyId: id }, owner.call);
    const revoked = await failureOf(tokenFor(client, secret));
    expect(revoked.code).toBe(Code.UNAUTHENTICATED);
    expect(revoked.reason).toBe("api_key_revoked");

    const wrongSecret = await failureOf(tokenFor(client, `tlr_${id}_${"A".repeat(43)}`));
    const unknownId = await failureOf(tokenFor(client, `tlr_${"z".repeat(12)}_${"A".repeat(43)}`));
    for (const error of [wrongSecret, unknownId]) {
      expect(error.code).toBe(Code.UNAUTHENTICATED);
      expect(error.reason).toBe("api_key_invalid");
      expect(error.message).toBe("invalid API key");
    }
    const malformed = await failureOf(tokenFor(client, "hunter2"));
    expect(malformed.code).toBe(Code.UNAUTHENTICATED);
    expect(malformed.reason).toBe("api_key_malformed");
  });

  it("records when a key was last used", async () => {
    const { apiKey, secret } = await client.createApiKey(
      { identityId: viewer.identity.id },
      viewer.call,
    );
    expect(apiKey?.lastUsedAt).toBeUndefined();
    await tokenFor(client, secret);
    const listed = await client.listApiKeys({ identityId: viewer.identity.id }, viewer.call);
    const used = listed.apiKeys.find((k) => k.id === apiKey?.id);
    expect(used?.lastUsedAt).toBeDefined();
  });

  it("refuses a key once its ttl_days have passed", async () => {
    const { secret } = await client.createApiKey(
      { identityId: viewer.identity.id, ttlDays: 1 },
      owner.call,
    );
    await tokenFor(client, secret);
    clock.offsetMs = 25 * 3600 * 1000;
    try {
      const expired = await failureOf(tokenFor(client, secret));
      expect(expired.code).toBe(Code.UNAUTHENTICATED);
      expect(expired.reason).toBe("api_key_expired");
    } finally {
      clock.offsetMs = 0;
    }
  });

  it("deletes an identity: its keys are revoked, it leaves the list, and a second delete changes nothing", async () => {
    const leaving = await createMember(client, admin, orgId, "leaving", EDITOR);
    const denied = await failureOf(
      client.deleteIdentity({ identityId: leaving.identity.id }, editor.call),
    );
    expect(denied.code).toBe(Code.PERMISSION_DENIED);

    expect(
      (await client.deleteIdentity({ identityId: leaving.identity.id }, owner.call)).deleted,
    ).toBe(true);
    expect(
      (await client.deleteIdentity({ identityId: leaving.identity.id }, owner.call)).deleted,
    ).toBe(false);

    const refused = await failureOf(tokenFor(client, leaving.apiKey));
    expect(refused.reason).toBe("api_key_revoked");
    // Its still-valid token cannot be exchanged for a new one.
    const exchange = await failureOf(
      client.issueToken({ audience: entitlementV1.Audience.REGISTRY }, leaving.call),
    );
    expect(exchange.code).toBe(Code.UNAUTHENTICATED);
    expect(exchange.reason).toBe("identity_deleted");

    const names = (await client.listIdentities({ orgId }, owner.call)).identities.map(
      (i) => i.name,
    );
    expect(names).not.toContain("leaving");
    const gone = await failureOf(
      client.setIdentityRole({ identityId: leaving.identity.id, role: VIEWER }, owner.call),
    );
    expect(gone.code).toBe(Code.NOT_FOUND);
    expect(gone.reason).toBe("identity_not_found");
    // The name is free again.
    const reused = await client.createIdentity(
      { orgId, name: "leaving", role: VIEWER },
      owner.call,
    );
    expect(reused.identity?.id).not.toBe(leaving.identity.id);

    const unknown = await failureOf(client.deleteIdentity({ identityId: randomUUID() }, admin));
    expect(unknown.code).toBe(Code.NOT_FOUND);
  });
});
