// Custom images over gRPC against real Postgres and NATS, with a stand-in
// entitlement service (only GetOrganization) deciding who may customize what.
import { readFileSync } from "node:fs";
import { events } from "@tailor/bus";
import { Code } from "@tailor/grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";
import { readEvents } from "./support/stored-events.js";
import type { FakeEntitlement } from "./support-images.js";
import { rejectionOf, startFakeEntitlement } from "./support-images.js";

const pythonYaml = readFileSync(
  new URL("../src/source-images/testdata/python-wolfi.yaml", import.meta.url),
  "utf8",
);
const ACME = "0b7c3a52-5d0e-4a51-9d7e-7a0c4c1f0a01";
const GLOBEX = "0b7c3a52-5d0e-4a51-9d7e-7a0c4c1f0a02";
const INITECH = "0b7c3a52-5d0e-4a51-9d7e-7a0c4c1f0a03";
const UNKNOWN_ORG = "0b7c3a52-5d0e-4a51-9d7e-7a0c4c1f0aff";

describe("custom images", () => {
  let catalog: RunningCatalog;
  let entitlement: FakeEntitlement;
  let editorToken: string;
  let editor: ReturnType<RunningCatalog["auth"]>;
  let owner: ReturnType<RunningCatalog["auth"]>;
  let viewer: ReturnType<RunningCatalog["auth"]>;

  beforeAll(async () => {
    catalog = await startCatalog();
    entitlement = await startFakeEntitlement(catalog.service.config);
    entitlement.organizations.set(ACME, {
      id: ACME,
      name: "acme",
      customAssemblyEnabled: true,
      customizableSourceImages: ["python"],
    });
    entitlement.organizations.set(GLOBEX, {
      id: GLOBEX,
      name: "globex",
      customAssemblyEnabled: true,
      customizableSourceImages: ["python", "alpine"],
    });
    entitlement.organizations.set(INITECH, {
      id: INITECH,
      name: "initech",
      customAssemblyEnabled: false,
      customizableSourceImages: ["python"],
    });
    editorToken = catalog.memberToken(ACME, "editor");
    editor = catalog.auth(editorToken);
    owner = catalog.auth(catalog.memberToken(ACME, "owner"));
    viewer = catalog.auth(catalog.memberToken(ACME, "viewer"));
    await catalog.client.putSourceImage({ name: "python", yaml: pythonYaml }, catalog.admin);
    await catalog.client.putSourceImage(
      { name: "alpine", yaml: "contents:\n  packages: [alpine-baselayout, busybox]\n" },
      catalog.admin,
    );
  });

  afterAll(async () => {
    await entitlement?.stop();
    await catalog?.stop();
  });

  it("keeps every revision: numbers, authors, comments and whole overlays, newest first", async () => {
    const { client, admin } = catalog;
    const created = await client.createCustomImage(
      {
        orgId: ACME,
        name: "api",
        sourceImage: "python",
        overlay: { packages: ["curl"], environment: { APP_MODE: "dev" } },
        comment: "first cut",
      },
      editor,
    );
    expect(created.customImage).toMatchObject({
      orgId: ACME,
      name: "api",
      sourceImage: "python",
      revision: 1,
      author: "Member editor",
      authorSubject: "member-editor",
      comment: "first cut",
      overlay: { packages: ["curl"], environment: { APP_MODE: "dev" } },
    });
    // The catalog asked entitlement with the caller's own token.
    expect(entitlement.authorizations.at(-1)).toBe(`Bearer ${editorToken}`);

    const second = await client.updateCustomImage(
      {
        orgId: ACME,
        name: "api",
        overlay: { packages: ["curl", "jq"] },
        comment: "add jq",
        expectedRevision: 1,
      },
      owner,
    );
    expect(second.customImage).toMatchObject({ revision: 2, author: "Member owner" });
    const third = await client.updateCustomImage(
      {
        orgId: ACME,
        name: "api",
        overlay: {
          packages: ["jq"],
          accounts: { users: [{ username: "app", uid: 1000 }], runAs: "app" },
        },
        comment: "drop curl, run as app",
      },
      admin,
    );
    expect(third.customImage).toMatchObject({
      revision: 3,
      author: "Ada Admin",
      authorSubject: "admin-1",
    });
    // gid 0 means "the uid's number", stored resolved.
    expect(third.customImage?.overlay?.accounts?.users[0]).toMatchObject({
      username: "app",
      uid: 1000,
      gid: 1000,
    });
    const fourth = await client.updateCustomImage(
      {
        orgId: ACME,
        name: "api",
        overlay: { packages: ["jq", "git"] },
        comment: "",
        expectedRevision: 3,
      },
      editor,
    );
    expect(fourth.customImage?.revision).toBe(4);

    const history = await client.listCustomImageRevisions({ orgId: ACME, name: "api" }, viewer);
    expect(
      history.revisions.map((r) => [r.revision, r.author, r.comment, r.overlay?.packages]),
    ).toEqual([
      [4, "Member editor", "", ["jq", "git"]],
      [3, "Ada Admin", "drop curl, run as app", ["jq"]],
      [2, "Member owner", "add jq", ["curl", "jq"]],
      [1, "Member editor", "first cut", ["curl"]],
    ]);
    const firstCreated = history.revisions.at(-1)?.createdAt;
    for (const revision of history.revisions) {
      expect(revision.imageCreatedAt).toEqual(firstCreated);
      expect(revision.sourceImage).toBe("python");
    }

    const latest = await client.getCustomImage({ orgId: ACME, name: "api" }, viewer);
    expect(latest.customImage?.revision).toBe(4);
    const old = await client.getCustomImage({ orgId: ACME, name: "api", revision: 2 }, viewer);
    expect(old.customImage).toMatchObject({ revision: 2, comment: "add jq" });
    expect(old.customImage?.overlay?.packages).toEqual(["curl", "jq"]);
    expect(old.customImage?.overlay?.environment).toEqual({});
  });

  it("refuses an update based on a stale revision with ABORTED", async () => {
    const stale = await rejectionOf(
      catalog.client.updateCustomImage(
        { orgId: ACME, name: "api", overlay: { packages: ["jq"] }, expectedRevision: 2 },
        editor,
      ),
    );
    expect(stale.code).toBe(Code.ABORTED);
    expect(stale.field).toBe("expected_revision");
    expect(stale.message).toContain('custom image "api" is at revision 4, not the expected 2');
    expect(stale.metadata).toMatchObject({ expected_revision: "2", latest_revision: "4" });
  });

  it("numbers concurrent updates consecutively", async () => {
    const updates = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        catalog.client.updateCustomImage(
          { orgId: ACME, name: "api", overlay: { packages: ["jq"] }, comment: `parallel ${n}` },
          editor,
        ),
      ),
    );
    expect(updates.map((u) => u.customImage?.revision).sort()).toEqual([5, 6, 7, 8, 9]);
    const history = await catalog.client.listCustomImageRevisions(
      { orgId: ACME, name: "api" },
      viewer,
    );
    expect(history.revisions.map((r) => r.revision)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it("publishes custom-image.updated once per revision with its stable message id", async () => {
    const published = (await readEvents(catalog.nats, events.customImageUpdated)).filter(
      (e) => e.event.customImage === "api",
    );
    expect(published.map((e) => e.msgId).sort()).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `custom-image.updated:${ACME}:api:${n}`).sort(),
    );
    const first = published.find((e) => e.event.revision === 1)?.event;
    expect(first).toMatchObject({
      orgId: ACME,
      customImage: "api",
      sourceImage: "python",
      author: "Member editor",
    });
    expect(first?.occurredAt).toBeDefined();
    expect(published.find((e) => e.event.revision === 3)?.event).toMatchObject({
      author: "Ada Admin",
      authorSubject: "admin-1",
    });
    // Nothing is left waiting in the outbox.
    expect(await catalog.db.selectFrom("event_outbox").selectAll().execute()).toEqual([]);
  });

  it("lists an organization's custom images at their latest revision, by name", async () => {
    await catalog.client.createCustomImage(
      { orgId: ACME, name: "worker", sourceImage: "python" },
      owner,
    );
    const list = await catalog.client.listCustomImages({ orgId: ACME }, viewer);
    expect(list.customImages.map((i) => [i.name, i.revision])).toEqual([
      ["api", 9],
      ["worker", 1],
    ]);
  });

  it("lets viewers read but not change", async () => {
    const create = await rejectionOf(
      catalog.client.createCustomImage({ orgId: ACME, name: "web", sourceImage: "python" }, viewer),
    );
    expect(create.code).toBe(Code.PERMISSION_DENIED);
    expect(create.message).toContain(
      'role "viewer" may not create custom images: it needs "editor" or above',
    );
    const update = await rejectionOf(
      catalog.client.updateCustomImage(
        { orgId: ACME, name: "api", overlay: { packages: ["jq"] } },
        viewer,
      ),
    );
    expect(update.code).toBe(Code.PERMISSION_DENIED);
    const read = await catalog.client.getCustomImage({ orgId: ACME, name: "api" }, viewer);
    expect(read.customImage?.revision).toBe(9);
  });

  it("answers NOT_FOUND to another organization's members, whatever they ask", async () => {
    const outsider = catalog.auth(catalog.memberToken(GLOBEX, "owner"));
    const calls = [
      catalog.client.getCustomImage({ orgId: ACME, name: "api" }, outsider),
      catalog.client.listCustomImages({ orgId: ACME }, outsider),
      catalog.client.listCustomImageRevisions({ orgId: ACME, name: "api" }, outsider),
      catalog.client.updateCustomImage({ orgId: ACME, name: "api", overlay: {} }, outsider),
      catalog.client.createCustomImage(
        { orgId: ACME, name: "spy", sourceImage: "python" },
        outsider,
      ),
    ];
    for (const call of calls) {
      const error = await rejectionOf(call);
      expect(error.code).toBe(Code.NOT_FOUND);
      expect(error.message).toBe(`organization "${ACME}" not found`);
      expect(error.field).toBe("org_id");
    }
    // Their own organization does not see ACME's images either.
    const own = await catalog.client.listCustomImages({ orgId: GLOBEX }, outsider);
    expect(own.customImages).toEqual([]);
  });

  it("refuses with FAILED_PRECONDITION when custom assembly is off or the source image is not allowed", async () => {
    const initech = catalog.auth(catalog.memberToken(INITECH, "owner"));
    const disabled = await rejectionOf(
      catalog.client.createCustomImage(
        { orgId: INITECH, name: "api", sourceImage: "python" },
        initech,
      ),
    );
    expect(disabled.code).toBe(Code.FAILED_PRECONDITION);
    expect(disabled.reason).toBe("custom_assembly_disabled");
    expect(disabled.field).toBe("org_id");
    expect(disabled.message).toBe(
      'organization "initech" does not have custom assembly enabled; a platform administrator can enable it',
    );

    const notAllowed = await rejectionOf(
      catalog.client.createCustomImage(
        { orgId: ACME, name: "tiny", sourceImage: "alpine" },
        editor,
      ),
    );
    expect(notAllowed.code).toBe(Code.FAILED_PRECONDITION);
    expect(notAllowed.reason).toBe("source_image_not_customizable");
    expect(notAllowed.field).toBe("source_image");
    expect(notAllowed.message).toBe(
      'organization "acme" may not customize source image "alpine" (it may customize "python")',
    );

    // Losing custom assembly stops updates too; reads still work.
    const globexOwner = catalog.auth(catalog.memberToken(GLOBEX, "owner"));
    await catalog.client.createCustomImage(
      { orgId: GLOBEX, name: "tiny", sourceImage: "alpine" },
      globexOwner,
    );
    const globex = entitlement.organizations.get(GLOBEX);
    if (globex === undefined) throw new Error("globex missing");
    globex.customizableSourceImages = ["python"];
    const revoked = await rejectionOf(
      catalog.client.updateCustomImage({ orgId: GLOBEX, name: "tiny", overlay: {} }, globexOwner),
    );
    expect(revoked.code).toBe(Code.FAILED_PRECONDITION);
    expect(revoked.message).toContain('may not customize source image "alpine"');
    const read = await catalog.client.getCustomImage({ orgId: GLOBEX, name: "tiny" }, globexOwner);
    expect(read.customImage?.revision).toBe(1);
  });

  it("reports names, duplicates and missing things precisely", async () => {
    const { client, admin } = catalog;
    const badName = await rejectionOf(
      client.createCustomImage({ orgId: ACME, name: "My Image", sourceImage: "python" }, editor),
    );
    expect(badName.code).toBe(Code.INVALID_ARGUMENT);
    expect(badName.field).toBe("name");
    expect(badName.message).toContain('"My Image" is not a valid custom image name');
    for (const name of ["-api", "a".repeat(64), "api.v2", "Api"]) {
      const error = await rejectionOf(
        client.createCustomImage({ orgId: ACME, name, sourceImage: "python" }, editor),
      );
      expect(error.field, name).toBe("name");
    }
    for (const name of ["a", "9lives", "my_api-2", "x".repeat(63)]) {
      const created = await client.createCustomImage(
        { orgId: ACME, name, sourceImage: "python" },
        editor,
      );
      expect(created.customImage?.name).toBe(name);
    }

    const duplicate = await rejectionOf(
      client.createCustomImage({ orgId: ACME, name: "api", sourceImage: "python" }, editor),
    );
    expect(duplicate.code).toBe(Code.ALREADY_EXISTS);
    expect(duplicate.message).toBe(`custom image "api" already exists in organization "${ACME}"`);
    // Names are per organization: another organization may use the same one.
    const globexOwner = catalog.auth(catalog.memberToken(GLOBEX, "owner"));
    await client.createCustomImage(
      { orgId: GLOBEX, name: "api", sourceImage: "python" },
      globexOwner,
    );

    const noSource = await rejectionOf(
      client.createCustomImage({ orgId: ACME, name: "rb", sourceImage: "ruby" }, editor),
    );
    expect(noSource.code).toBe(Code.NOT_FOUND);
    expect(noSource.field).toBe("source_image");
    expect(noSource.message).toBe('source image "ruby" not found');

    const noImage = await rejectionOf(client.getCustomImage({ orgId: ACME, name: "nope" }, viewer));
    expect(noImage.code).toBe(Code.NOT_FOUND);
    expect(noImage.field).toBe("name");
    const noRevision = await rejectionOf(
      client.getCustomImage({ orgId: ACME, name: "api", revision: 99 }, viewer),
    );
    expect(noRevision.code).toBe(Code.NOT_FOUND);
    expect(noRevision.field).toBe("revision");
    expect(noRevision.message).toContain("has no revision 99");
    const noUpdate = await rejectionOf(
      client.updateCustomImage({ orgId: ACME, name: "nope", overlay: {} }, editor),
    );
    expect(noUpdate.code).toBe(Code.NOT_FOUND);

    const noOrg = await rejectionOf(
      client.createCustomImage({ orgId: UNKNOWN_ORG, name: "api", sourceImage: "python" }, admin),
    );
    expect(noOrg.code).toBe(Code.NOT_FOUND);
    expect(noOrg.field).toBe("org_id");
    const badOrg = await rejectionOf(client.listCustomImages({ orgId: "acme" }, admin));
    expect(badOrg.code).toBe(Code.INVALID_ARGUMENT);
    expect(badOrg.field).toBe("org_id");
  });
});

describe("custom images on embedded PGlite", () => {
  it("stores revisions and publishes their events the same way", async () => {
    const catalog = await startCatalog({ database: "pglite" });
    const entitlement = await startFakeEntitlement(catalog.service.config);
    try {
      entitlement.organizations.set(ACME, {
        id: ACME,
        name: "acme",
        customAssemblyEnabled: true,
        customizableSourceImages: ["python"],
      });
      const editor = catalog.auth(catalog.memberToken(ACME, "editor"));
      await catalog.client.putSourceImage({ name: "python", yaml: pythonYaml }, catalog.admin);
      await catalog.client.createCustomImage(
        { orgId: ACME, name: "api", sourceImage: "python", overlay: { packages: ["curl"] } },
        editor,
      );
      await catalog.client.updateCustomImage(
        { orgId: ACME, name: "api", overlay: { packages: ["jq"] }, expectedRevision: 1 },
        editor,
      );
      const history = await catalog.client.listCustomImageRevisions(
        { orgId: ACME, name: "api" },
        editor,
      );
      expect(history.revisions.map((r) => [r.revision, r.overlay?.packages])).toEqual([
        [2, ["jq"]],
        [1, ["curl"]],
      ]);
      const published = await readEvents(catalog.nats, events.customImageUpdated);
      expect(published.map((e) => e.msgId)).toEqual([
        `custom-image.updated:${ACME}:api:1`,
        `custom-image.updated:${ACME}:api:2`,
      ]);
    } finally {
      await entitlement.stop();
      await catalog.stop();
    }
  }, 60_000);
});
