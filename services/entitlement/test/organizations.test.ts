// Organizations, custom assembly, purchases, grants and GetEntitlements over
// real gRPC against Postgres and NATS, as administrators and members.
import { randomUUID } from "node:crypto";
import type { CallOptions } from "@tailor/grpc";
import { Code } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntitlementClient, Member, StartedWithOrganization } from "./entitlement-harness.js";
import { createMember, failureOf, startWithOrganization } from "./entitlement-harness.js";

describe("organizations and what they may use", () => {
  let started: StartedWithOrganization;
  let client: EntitlementClient;
  let admin: CallOptions;
  let orgId: string;
  let owner: Member;
  let editor: Member;
  let viewer: Member;

  beforeAll(async () => {
    started = await startWithOrganization({ displayName: "ACME Corp" });
    ({ client, admin, orgId } = started);
    owner = await createMember(client, admin, orgId, "olivia", entitlementV1.Role.OWNER);
    editor = await createMember(client, admin, orgId, "eddie", entitlementV1.Role.EDITOR);
    viewer = await createMember(client, admin, orgId, "vic", entitlementV1.Role.VIEWER);
  });

  afterAll(async () => {
    await started?.stop();
  });

  it("lets only administrators create organizations", async () => {
    const denied = await failureOf(client.createOrganization({ name: "nope" }, owner.call));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.reason).toBe("administrator_required");
    expect(denied.message).toContain("only a platform administrator may create organizations");
  });

  it("finds an organization by id or by name, and asks for exactly one of them", async () => {
    const byId = await client.getOrganization({ id: orgId }, viewer.call);
    expect(byId.organization?.name).toBe("acme");
    const byName = await client.getOrganization({ name: "acme" }, admin);
    expect(byName.organization?.id).toBe(orgId);
    expect(byName.organization?.displayName).toBe("ACME Corp");

    const both = await failureOf(client.getOrganization({ id: orgId, name: "acme" }, admin));
    expect(both.code).toBe(Code.INVALID_ARGUMENT);
    expect(both.field).toBe("name");
    expect(both.message).toContain("not both");
    const neither = await failureOf(client.getOrganization({}, admin));
    expect(neither.code).toBe(Code.INVALID_ARGUMENT);
    expect(neither.field).toBe("id");
    const notUuid = await failureOf(client.getOrganization({ id: "acme" }, admin));
    expect(notUuid.code).toBe(Code.INVALID_ARGUMENT);
    expect(notUuid.message).toContain('organization id "acme" is not a UUID');
    const unknown = await failureOf(client.getOrganization({ name: "nobody" }, admin));
    expect(unknown.code).toBe(Code.NOT_FOUND);
    expect(unknown.field).toBe("name");
    expect(unknown.message).toBe('organization "nobody" not found');
  });

  it("lists every organization by name for an administrator, page by page", async () => {
    for (const name of ["page-c", "page-a", "page-d", "page-b"]) {
      await client.createOrganization({ name }, admin);
    }
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await client.listOrganizations({ page: { size: 2, token } }, admin);
      expect(page.organizations.length).toBeLessThanOrEqual(2);
      seen.push(...page.organizations.map((o) => o.name));
      token = page.page?.nextToken ?? "";
      pages++;
    } while (token !== "");
    expect(seen).toEqual(["acme", "page-a", "page-b", "page-c", "page-d"]);
    expect(pages).toBe(3);

    const bad = await failureOf(
      client.listOrganizations({ page: { size: 2, token: "garbage!" } }, admin),
    );
    expect(bad.code).toBe(Code.INVALID_ARGUMENT);
    expect(bad.field).toBe("page.token");
  });

  it("lists only its own organization for a member", async () => {
    const listed = await client.listOrganizations({}, viewer.call);
    expect(listed.organizations.map((o) => o.name)).toEqual(["acme"]);
    expect(listed.page?.nextToken).toBe("");
  });

  it("sets custom assembly and the customizable source images (administrators only)", async () => {
    const before = await client.getOrganization({ id: orgId }, owner.call);
    expect(before.organization?.customAssemblyEnabled).toBe(false);
    expect(before.organization?.customizableSourceImages).toEqual([]);

    const set = await client.setCustomAssembly(
      { orgId, enabled: true, customizableSourceImages: ["python", "node", "python"] },
      admin,
    );
    expect(set.organization?.customAssemblyEnabled).toBe(true);
    expect(set.organization?.customizableSourceImages).toEqual(["node", "python"]);
    const read = await client.getOrganization({ id: orgId }, viewer.call);
    expect(read.organization?.customizableSourceImages).toEqual(["node", "python"]);

    // The list is replaced, not merged.
    const replaced = await client.setCustomAssembly(
      { orgId, enabled: true, customizableSourceImages: ["go"] },
      admin,
    );
    expect(replaced.organization?.customizableSourceImages).toEqual(["go"]);

    const denied = await failureOf(client.setCustomAssembly({ orgId, enabled: false }, owner.call));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    const invalid = await failureOf(
      client.setCustomAssembly(
        { orgId, enabled: true, customizableSourceImages: ["ok", "Not Valid"] },
        admin,
      ),
    );
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.field).toBe("customizable_source_images[1]");
    expect(invalid.message).toContain('"Not Valid"');
    const unknown = await failureOf(
      client.setCustomAssembly({ orgId: randomUUID(), enabled: true }, admin),
    );
    expect(unknown.code).toBe(Code.NOT_FOUND);
    expect(unknown.field).toBe("org_id");
  });

  it("lets an owner (or an administrator) turn unique tags on for its own organization only", async () => {
    const before = await client.getOrganization({ id: orgId }, viewer.call);
    expect(before.organization?.uniqueTags).toBe(false);

    const set = await client.setOrganizationSettings({ orgId, uniqueTags: true }, owner.call);
    expect(set.organization?.uniqueTags).toBe(true);
    expect(set.organization?.name).toBe("acme");
    const read = await client.getOrganization({ id: orgId }, viewer.call);
    expect(read.organization?.uniqueTags).toBe(true);

    for (const member of [viewer, editor]) {
      const denied = await failureOf(
        client.setOrganizationSettings({ orgId, uniqueTags: false }, member.call),
      );
      expect(denied.code).toBe(Code.PERMISSION_DENIED);
      expect(denied.message).toContain("change the organization's settings");
    }
    expect((await client.getOrganization({ id: orgId }, admin)).organization?.uniqueTags).toBe(
      true,
    );

    const { organization: other } = await client.createOrganization({ name: "other-org" }, admin);
    if (other === undefined) throw new Error("CreateOrganization returned no organization");
    const otherOwner = await createMember(
      client,
      admin,
      other.id,
      "oscar",
      entitlementV1.Role.OWNER,
    );
    const hidden = await failureOf(
      client.setOrganizationSettings({ orgId, uniqueTags: false }, otherOwner.call),
    );
    expect(hidden.code).toBe(Code.NOT_FOUND);
    expect(hidden.field).toBe("org_id");

    const byAdmin = await client.setOrganizationSettings({ orgId, uniqueTags: false }, admin);
    expect(byAdmin.organization?.uniqueTags).toBe(false);
    const unknown = await failureOf(
      client.setOrganizationSettings({ orgId: randomUUID(), uniqueTags: true }, admin),
    );
    expect(unknown.code).toBe(Code.NOT_FOUND);
  });

  it("records purchases idempotently and removes them", async () => {
    const first = await client.addPurchase({ orgId, sourceImage: "python" }, admin);
    expect(first.purchase?.sourceImage).toBe("python");
    const again = await client.addPurchase({ orgId, sourceImage: "python" }, admin);
    expect(again.purchase?.purchasedAt).toEqual(first.purchase?.purchasedAt);
    await client.addPurchase({ orgId, sourceImage: "node" }, admin);

    let entitlements = await client.getEntitlements({ orgId }, viewer.call);
    expect(entitlements.purchases.map((p) => p.sourceImage)).toEqual(["node", "python"]);

    expect((await client.removePurchase({ orgId, sourceImage: "node" }, admin)).removed).toBe(true);
    expect((await client.removePurchase({ orgId, sourceImage: "node" }, admin)).removed).toBe(
      false,
    );
    entitlements = await client.getEntitlements({ orgId }, viewer.call);
    expect(entitlements.purchases.map((p) => p.sourceImage)).toEqual(["python"]);

    const denied = await failureOf(client.addPurchase({ orgId, sourceImage: "ruby" }, editor.call));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    const invalid = await failureOf(client.addPurchase({ orgId, sourceImage: "" }, admin));
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.field).toBe("source_image");
    const unknown = await failureOf(
      client.addPurchase({ orgId: randomUUID(), sourceImage: "python" }, admin),
    );
    expect(unknown.code).toBe(Code.NOT_FOUND);
  });

  it("grants packages idempotently, keeping the first reason, and revokes them", async () => {
    const first = await client.grantPackage(
      { orgId, packageName: "libstdc++", reason: "contract 42" },
      admin,
    );
    expect(first.grant).toMatchObject({ packageName: "libstdc++", reason: "contract 42" });
    const again = await client.grantPackage(
      { orgId, packageName: "libstdc++", reason: "other" },
      admin,
    );
    expect(again.grant?.reason).toBe("contract 42");
    expect(again.grant?.grantedAt).toEqual(first.grant?.grantedAt);
    await client.grantPackage({ orgId, packageName: "curl" }, admin);

    const entitlements = await client.getEntitlements({ orgId }, editor.call);
    expect(entitlements.packageGrants.map((g) => g.packageName)).toEqual(["curl", "libstdc++"]);
    expect(entitlements.organization?.name).toBe("acme");

    expect((await client.revokePackageGrant({ orgId, packageName: "curl" }, admin)).removed).toBe(
      true,
    );
    expect((await client.revokePackageGrant({ orgId, packageName: "curl" }, admin)).removed).toBe(
      false,
    );
    const after = await client.getEntitlements({ orgId }, owner.call);
    expect(after.packageGrants.map((g) => g.packageName)).toEqual(["libstdc++"]);

    const denied = await failureOf(client.grantPackage({ orgId, packageName: "bash" }, owner.call));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    const invalid = await failureOf(client.grantPackage({ orgId, packageName: "bad name" }, admin));
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT);
    expect(invalid.field).toBe("package_name");
  });

  it("answers GetEntitlements for administrators and refuses callers without a token", async () => {
    const asAdmin = await client.getEntitlements({ orgId }, admin);
    expect(asAdmin.organization?.id).toBe(orgId);
    expect(asAdmin.organization?.customAssemblyEnabled).toBe(true);
    const anonymous = await failureOf(client.getEntitlements({ orgId }));
    expect(anonymous.code).toBe(Code.UNAUTHENTICATED);
  });
});
