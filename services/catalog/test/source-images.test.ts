// Source images over gRPC against real Postgres and NATS: apko YAML in,
// generations and source-image.updated events out.
import { readFileSync } from "node:fs";
import { events } from "@tailor/bus";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPackage, createTestSigningKey } from "./support/apk-repositories.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";
import { readEvents } from "./support/stored-events.js";
import { rejectionOf } from "./support-images.js";

const testdata = (name: string) =>
  readFileSync(new URL(`../src/source-images/testdata/${name}`, import.meta.url), "utf8");
const pythonYaml = testdata("python-wolfi.yaml");

describe("source images", () => {
  let catalog: RunningCatalog;

  beforeAll(async () => {
    catalog = await startCatalog();
  });

  afterAll(async () => {
    await catalog?.stop();
  });

  it("an administrator defines one from apko YAML; it reads back normalized, as generation 1", async () => {
    const { client, admin } = catalog;
    const put = await client.putSourceImage({ name: "python", yaml: pythonYaml }, admin);
    expect(put.changed).toBe(true);
    const image = put.sourceImage;
    expect(image).toMatchObject({
      name: "python",
      mainPackage: "python-3.12",
      version: "",
      generation: 1,
      packages: ["python-3.12", "ca-certificates-bundle", "wolfi-baselayout", "py3.12-pip>=24.0"],
      devPackages: ["busybox", "apk-tools", "bash"],
      repositories: ["https://packages.wolfi.dev/os"],
      keyring: ["https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"],
      entrypoint: ["/usr/bin/python3.12"],
      cmd: ["-c", "print('hello from Tailor')"],
      workDir: "/app",
      archs: ["aarch64", "x86_64"],
      yaml: pythonYaml,
    });
    expect(image?.accounts?.runAs).toBe("nonroot");
    expect(image?.accounts?.users.map((u) => [u.username, u.uid, u.gid, u.homeDir])).toEqual([
      ["nonroot", 65532, 65532, "/home/nonroot"],
    ]);
    expect(image?.environment.PYTHONUNBUFFERED).toBe("1");
    expect(image?.annotations["org.opencontainers.image.title"]).toBe("python");
    expect(image?.updatedAt).toBeDefined();

    // Any authenticated caller reads it, administrators and organization members alike.
    const viewer = catalog.auth(
      catalog.memberToken("7d4f0c3e-1111-4a4a-8b8b-000000000001", "viewer"),
    );
    const read = await client.getSourceImage({ name: "python" }, viewer);
    expect(read.sourceImage?.generation).toBe(1);
    expect(read.sourceImage?.packages).toEqual(image?.packages);
  });

  it("putting the same definition again changes nothing and publishes nothing", async () => {
    const { client, admin } = catalog;
    const again = await client.putSourceImage({ name: "python", yaml: pythonYaml }, admin);
    expect(again.changed).toBe(false);
    expect(again.sourceImage?.generation).toBe(1);
    // Comments, formatting and key order are not part of the definition.
    const reformatted = `# reformatted\n${pythonYaml.replace("work-dir: /app", "work-dir: '/app'   # quoted")}`;
    const cosmetic = await client.putSourceImage({ name: "python", yaml: reformatted }, admin);
    expect(cosmetic.changed).toBe(false);
    expect(cosmetic.sourceImage?.yaml).toBe(pythonYaml);

    const published = await readEvents(catalog.nats, events.sourceImageUpdated);
    expect(published.map((e) => e.msgId)).toEqual(["source-image.updated:python:1"]);
    expect(published[0]?.event).toMatchObject({
      sourceImage: "python",
      generation: 1,
      version: "",
    });
  });

  it("a changed definition becomes the next generation, announced once", async () => {
    const { client, admin } = catalog;
    const changedYaml = pythonYaml.replace(
      "    - wolfi-baselayout\n",
      "    - wolfi-baselayout\n    - tzdata\n",
    );
    const put = await client.putSourceImage({ name: "python", yaml: changedYaml }, admin);
    expect(put.changed).toBe(true);
    expect(put.sourceImage?.generation).toBe(2);
    expect(put.sourceImage?.packages).toContain("tzdata");
    // Choosing another main package is a change too.
    const main = await client.putSourceImage(
      { name: "python", yaml: changedYaml, mainPackage: "ca-certificates-bundle" },
      admin,
    );
    expect(main.sourceImage).toMatchObject({
      generation: 3,
      mainPackage: "ca-certificates-bundle",
    });
    const again = await client.putSourceImage(
      { name: "python", yaml: changedYaml, mainPackage: "ca-certificates-bundle" },
      admin,
    );
    expect(again.changed).toBe(false);

    const published = await readEvents(catalog.nats, events.sourceImageUpdated);
    expect(published.map((e) => e.msgId)).toEqual([
      "source-image.updated:python:1",
      "source-image.updated:python:2",
      "source-image.updated:python:3",
    ]);
  });

  it("lists source images by name", async () => {
    const { client, admin } = catalog;
    await client.putSourceImage({ name: "alpine", yaml: testdata("alpine-minimal.yaml") }, admin);
    const list = await client.listSourceImages({}, admin);
    expect(list.sourceImages.map((i) => i.name)).toEqual(["alpine", "python"]);
    expect(list.sourceImages[0]?.archs).toEqual(["armv7", "x86", "x86_64"]);
  });

  it("only administrators define source images; callers must authenticate", async () => {
    const { client } = catalog;
    const owner = catalog.auth(
      catalog.memberToken("7d4f0c3e-1111-4a4a-8b8b-000000000001", "owner"),
    );
    const denied = await rejectionOf(
      client.putSourceImage({ name: "node", yaml: pythonYaml }, owner),
    );
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.message).toContain("only a platform administrator may define source images");
    const anonymous = await rejectionOf(client.getSourceImage({ name: "python" }));
    expect(anonymous.code).toBe(Code.UNAUTHENTICATED);
  });

  it("refuses a definition with a precise field, listing every problem", async () => {
    const { client, admin } = catalog;
    const bundle = await rejectionOf(
      client.putSourceImage({ name: "nginx", yaml: testdata("service-bundle.yaml") }, admin),
    );
    expect(bundle.code).toBe(Code.INVALID_ARGUMENT);
    expect(bundle.field).toBe("entrypoint.type");
    expect(bundle.message).toContain('source image "nginx" is invalid (2 problems)');
    expect(bundle.message).toContain("entrypoint.services: is not supported");
    expect(bundle.metadata).toMatchObject({ problems: "2" });
    expect(bundle.metadata["entrypoint.type"]).toContain('"service-bundle" is not supported');

    const accounts = await rejectionOf(
      client.putSourceImage({ name: "bad", yaml: testdata("bad-accounts.yaml") }, admin),
    );
    expect(accounts.field).toBe("accounts.users[1].uid");
    expect(accounts.message).toContain('accounts.users[1].uid: must be a whole number, not "1001"');

    const main = await rejectionOf(
      client.putSourceImage({ name: "python", yaml: pythonYaml, mainPackage: "nodejs-22" }, admin),
    );
    expect(main.code).toBe(Code.INVALID_ARGUMENT);
    expect(main.field).toBe("main_package");

    const name = await rejectionOf(
      client.putSourceImage({ name: "Python 3", yaml: pythonYaml }, admin),
    );
    expect(name.field).toBe("name");

    const missing = await rejectionOf(client.getSourceImage({ name: "ruby" }, admin));
    expect(missing.code).toBe(Code.NOT_FOUND);
    expect(missing.message).toBe('source image "ruby" not found');
    expect(missing.field).toBe("name");
  });

  it("carries the newest supported version of its main package in the catalog", async () => {
    const { client, admin } = catalog;
    const key = createTestSigningKey("images-test.rsa.pub");
    await client.createRepository(
      {
        name: "hosted",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      admin,
    );
    for (const version of ["3.12.1-r0", "3.12.4-r0", "3.12.3-r1"]) {
      const content = await buildPackage({ name: "python-3.12", version }, key.signer);
      await client.publishPackage({ repository: "hosted", content }, admin);
    }
    const yaml = pythonYaml;
    await client.putSourceImage({ name: "python", yaml }, admin);
    const read = await client.getSourceImage({ name: "python" }, admin);
    expect(read.sourceImage?.mainPackage).toBe("python-3.12");
    expect(read.sourceImage?.version).toBe("3.12.4-r0");

    // Every version end-of-life: no supported version to carry.
    await client.setEndOfLife({ packageName: "python-3.12", reason: "replaced by 3.13" }, admin);
    const eol = await client.getSourceImage({ name: "python" }, admin);
    expect(eol.sourceImage?.version).toBe("");
  });
});
