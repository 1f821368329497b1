// Cross-tenant refusal: an owner of organization B learns nothing about
// organization A, whatever it asks for; every answer is NOT_FOUND.
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats } from "@tailor/testing";
import { createTestDatabase, createTestNats } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntitlementClient, Member, RunningEntitlement } from "./entitlement-harness.js";
import { as, createMember, failureOf, startEntitlement, tokenFor } from "./entitlement-harness.js";

const { OWNER, VIEWER } = entitlementV1.Role;

describe("tenant isolation", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let running: RunningEntitlement;
  let client: EntitlementClient;
  let admin: CallOptions;
  let adminId: string;
  let orgA: string;
  let orgB: string;
  let ownerA: Member;
  let viewerA: Member;
  let ownerB: Member;
  let keyOfA: string;

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase();
    running = await startEntitlement({ database: pg.database, nats });
    client = running.client;
    const adminToken = await tokenFor(client, running.adminKey);
    admin = as(adminToken);
    adminId =
      (await client.verifyToken({ token: adminToken, audience: entitlementV1.Audience.API })).claims
        ?.subject ?? "";
    orgA = (await client.createOrganization({ name: "alpha" }, admin)).organization?.id ?? "";
    orgB = (await client.createOrganization({ name: "bravo" }, admin)).organization?.id ?? "";
    await client.addPurchase({ orgId: orgA, sourceImage: "python" }, admin);
    ownerA = await createMember(client, admin, orgA, "anna", OWNER);
    viewerA = await createMember(client, admin, orgA, "vera", VIEWER);
    ownerB = await createMember(client, admin, orgB, "bob", OWNER);
    keyOfA = (await client.listApiKeys({ identityId: viewerA.identity.id }, ownerA.call)).apiKeys[0]
      ?.id as string;
  });

  afterAll(async () => {
    await running?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
  });

  function expectHidden(error: { code: number; message: string }) {
    expect(error.code).toBe(Code.NOT_FOUND);
    // Nothing about A that B did not already send: not its name, not its members.
    expect(error.message).not.toContain("alpha");
    expect(error.message).not.toContain("anna");
  }

  it("hides another organization, by id and by name", async () => {
    expectHidden(await failureOf(client.getOrganization({ id: orgA }, ownerB.call)));
    const byName = await failureOf(client.getOrganization({ name: "alpha" }, ownerB.call));
    expect(byName.code).toBe(Code.NOT_FOUND);
    expect(byName.message).toBe('organization "alpha" not found');
    expect(byName.message).not.toContain(orgA);
    // Exactly what an organization that does not exist answers.
    const missing = await failureOf(client.getOrganization({ name: "zulu" }, ownerB.call));
    expect(missing.code).toBe(byName.code);
    expect(missing.reason).toBe(byName.reason);
  });

  it("lists only the caller's own organization", async () => {
    const listed = await client.listOrganizations({}, ownerB.call);
    expect(listed.organizations.map((o) => o.name)).toEqual(["bravo"]);
    const all = await client.listOrganizations({}, admin);
    expect(all.organizations.map((o) => o.name)).toEqual(["alpha", "bravo"]);
  });

  it("hides another organization's entitlements and identities", async () => {
    expectHidden(await failureOf(client.getEntitlements({ orgId: orgA }, ownerB.call)));
    expectHidden(await failureOf(client.listIdentities({ orgId: orgA }, ownerB.call)));
    expectHidden(
      await failureOf(
        client.createIdentity({ orgId: orgA, name: "mole", role: OWNER }, ownerB.call),
      ),
    );
  });

  it("hides another organization's identities and API keys by id", async () => {
    const identityId = viewerA.identity.id;
    for (const call of [
      () => client.setIdentityRole({ identityId, role: OWNER }, ownerB.call),
      () => client.deleteIdentity({ identityId }, ownerB.call),
      () => client.createApiKey({ identityId }, ownerB.call),
      () => client.listApiKeys({ identityId }, ownerB.call),
    ]) {
      const error = await failureOf(call());
      expectHidden(error);
      expect(error.reason).toBe("identity_not_found");
    }
    const revoke = await failureOf(client.revokeApiKey({ apiKeyId: keyOfA }, ownerB.call));
    expectHidden(revoke);
    expect(revoke.reason).toBe("api_key_not_found");
    // The platform administrator is nobody's member either.
    const adminIdentity = await failureOf(client.listApiKeys({ identityId: adminId }, ownerB.call));
    expect(adminIdentity.code).toBe(Code.NOT_FOUND);

    // And nothing changed in A.
    const keys = await client.listApiKeys({ identityId }, ownerA.call);
    expect(keys.apiKeys.find((k) => k.id === keyOfA)?.revokedAt).toBeUndefined();
    const members = await client.listIdentities({ orgId: orgA }, ownerA.call);
    expect(members.identities.map((i) => i.name)).toEqual(["anna", "vera"]);
    expect(members.identities.find((i) => i.name === "vera")?.role).toBe(VIEWER);
  });

  it("keeps administrator-only calls closed to owners", async () => {
    for (const call of [
      () => client.addPurchase({ orgId: orgB, sourceImage: "node" }, ownerB.call),
      () => client.grantPackage({ orgId: orgB, packageName: "curl" }, ownerB.call),
      () => client.setCustomAssembly({ orgId: orgB, enabled: true }, ownerB.call),
      () => client.rotateSigningKey({}, ownerB.call),
    ]) {
      const error = await failureOf(call());
      expect(error.code).toBe(Code.PERMISSION_DENIED);
      expect(error.reason).toBe("administrator_required");
    }
  });
});
