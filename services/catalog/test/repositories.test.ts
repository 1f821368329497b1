// Repository management: creation with precise validation errors, reads,
// updates (with what they do to packages and verification), and who may call.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenSigner, generateSigningKey } from "@tailor/auth";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import { rejection } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestSigningKey } from "./support/apk-repositories.js";
import {
  buildPackage,
  createTestSigningKey,
  writeSyntheticRepository,
} from "./support/apk-repositories.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";

const { UPSTREAM, HOSTED } = catalogV1.RepositoryKind;

/** The fields of a CreateRepositoryRequest, all optional (overrides of a valid request). */
interface CreateRequest {
  name?: string;
  kind?: catalogV1.RepositoryKind;
  url?: string;
  arches?: string[];
  trustedKeys?: { name: string; pem: string }[];
  mirror?: boolean;
  tag?: string;
}

describe("repositories", () => {
  let catalog: RunningCatalog;
  let key: TestSigningKey;
  let root: string;

  beforeAll(async () => {
    catalog = await startCatalog();
    key = createTestSigningKey("repo-key.rsa.pub");
    root = await mkdtemp(join(tmpdir(), "tailor-catalog-repositories-"));
  });

  afterAll(async () => {
    await catalog?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  const upstream = (overrides: CreateRequest = {}) => ({
    name: "edge-community",
    kind: UPSTREAM,
    url: "https://dl-cdn.alpinelinux.org/alpine/edge/community/",
    arches: ["x86_64", "aarch64"],
    trustedKeys: [key.trustedKey],
    mirror: true,
    tag: "edge",
    ...overrides,
  });

  it("creates an upstream repository and reads it back", async () => {
    const created = await catalog.client.createRepository(upstream(), catalog.admin);
    expect(created.repository).toMatchObject({
      name: "edge-community",
      kind: UPSTREAM,
      url: "https://dl-cdn.alpinelinux.org/alpine/edge/community",
      arches: ["x86_64", "aarch64"],
      trustedKeys: [key.trustedKey],
      mirror: true,
      tag: "@edge",
      packageCount: 0n,
    });
    expect(created.repository?.createdAt).toBeDefined();
    expect(created.repository?.lastSyncedAt).toBeUndefined();

    const viewer = catalog.auth(
      catalog.memberToken("5c3d1e2f-3333-4c2e-9a55-0d6f3c1e2a10", "viewer"),
    );
    const read = await catalog.client.getRepository({ name: "edge-community" }, viewer);
    expect(read.repository).toEqual(created.repository);

    await catalog.client.createRepository(
      { name: "a-hosted", kind: HOSTED, arches: ["x86_64"], trustedKeys: [key.trustedKey] },
      catalog.admin,
    );
    const listed = await catalog.client.listRepositories({}, viewer);
    expect(listed.repositories.map((repository) => [repository.name, repository.kind])).toEqual([
      ["a-hosted", HOSTED],
      ["edge-community", UPSTREAM],
    ]);

    const taken = await rejection(catalog.client.createRepository(upstream(), catalog.admin));
    expect(taken).toMatchObject({
      code: Code.ALREADY_EXISTS,
      field: "name",
      message: 'repository "edge-community" already exists',
    });
    const missing = await rejection(catalog.client.getRepository({ name: "nope" }, viewer));
    expect(missing).toMatchObject({
      code: Code.NOT_FOUND,
      field: "name",
      message: 'repository "nope" not found',
    });
  });

  it("names the field at fault when a repository is invalid", async () => {
    const { publicKey: ed25519 } = generateKeyPairSync("ed25519");
    const cases: [CreateRequest, string, string][] = [
      [{ name: "Edge Community" }, "name", 'repository name "Edge Community" is invalid'],
      [{ kind: catalogV1.RepositoryKind.UNSPECIFIED }, "kind", "kind is required"],
      [{ url: "" }, "url", "an upstream repository needs a url"],
      [{ url: "ftp://mirror.example/alpine" }, "url", 'url "ftp://mirror.example/alpine" uses ftp'],
      [{ url: "relative/dir" }, "url", 'url "relative/dir" is not a URL'],
      [{ url: "https://user:secret@mirror.example/alpine" }, "url", "must not carry credentials"],
      [
        { kind: HOSTED, url: "https://x.example", mirror: false },
        "url",
        "a hosted repository has no url",
      ],
      [
        { kind: HOSTED, url: "", mirror: true },
        "mirror",
        "mirror applies to upstream repositories only",
      ],
      [{ arches: [] }, "arches", "at least one arch is required"],
      [{ arches: ["x86_64", "x86_64"] }, "arches[1]", 'arch "x86_64" is listed twice'],
      [{ arches: ["noarch"] }, "arches[0]", '"noarch" is not a repository arch'],
      [{ arches: ["X86 64"] }, "arches[0]", 'arch "X86 64" is invalid'],
      [{ trustedKeys: [] }, "trusted_keys", "at least one trusted key is required"],
      [
        { trustedKeys: [{ name: "../etc/passwd", pem: key.trustedKey.pem }] },
        "trusted_keys[0].name",
        'key name "../etc/passwd" is invalid',
      ],
      [
        { trustedKeys: [key.trustedKey, key.trustedKey] },
        "trusted_keys[1].name",
        'key "repo-key.rsa.pub" is listed twice',
      ],
      [
        {
          trustedKeys: [
            {
              name: "garbage.rsa.pub",
              pem: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n",
            },
          ],
        },
        "trusted_keys[0].pem",
        'key "garbage.rsa.pub" is not a readable public key',
      ],
      [
        {
          trustedKeys: [
            { name: "ed.rsa.pub", pem: ed25519.export({ type: "spki", format: "pem" }).toString() },
          ],
        },
        "trusted_keys[0].pem",
        'key "ed.rsa.pub" is a ed25519 public key; apk signatures need RSA public keys',
      ],
      [{ tag: "@edge community" }, "tag", 'tag "@edge community" is invalid'],
    ];
    for (const [overrides, field, message] of cases) {
      const error = await rejection(
        catalog.client.createRepository(upstream({ name: "invalid", ...overrides }), catalog.admin),
      );
      expect({ code: error.code, field: error.field }, JSON.stringify(overrides)).toEqual({
        code: Code.INVALID_ARGUMENT,
        field,
      });
      expect(error.message).toContain(message);
    }
    expect(
      (await catalog.client.listRepositories({}, catalog.admin)).repositories.map(
        (repository) => repository.name,
      ),
    ).not.toContain("invalid");
  });

  it("updates arches, keys and the mirror flag: a dropped arch's packages go, new keys verify again", async () => {
    const dir = join(root, "two-arches");
    for (const arch of ["x86_64", "aarch64"]) {
      const pkg = await buildPackage({ name: "hello", version: "1.0-r0", arch }, key.signer);
      await writeSyntheticRepository(dir, arch, [pkg], key.signer);
    }
    await catalog.client.createRepository(
      {
        name: "two-arches",
        kind: UPSTREAM,
        url: dir,
        arches: ["x86_64", "aarch64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "two-arches" }, catalog.admin);
    expect(
      (await catalog.client.getRepository({ name: "two-arches" }, catalog.admin)).repository
        ?.packageCount,
    ).toBe(2n);

    const second = createTestSigningKey("second.rsa.pub");
    const updated = await catalog.client.updateRepository(
      {
        name: "two-arches",
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey, second.trustedKey],
        mirror: true,
      },
      catalog.admin,
    );
    expect(updated.repository).toMatchObject({
      arches: ["x86_64"],
      mirror: true,
      packageCount: 1n,
      url: dir,
    });
    expect(updated.repository?.trustedKeys.map((trusted) => trusted.name)).toEqual([
      "repo-key.rsa.pub",
      "second.rsa.pub",
    ]);
    expect(
      (await catalog.client.listPackageVersions({ name: "hello" }, catalog.admin)).packages.map(
        (pkg) => pkg.arch,
      ),
    ).toEqual(["x86_64"]);

    const resync = await catalog.client.syncRepository({ name: "two-arches" }, catalog.admin);
    expect(resync.sync?.arches).toEqual([
      expect.objectContaining({ arch: "x86_64", indexUnchanged: false, added: 0, unchanged: 1 }),
    ]);

    const invalid = await rejection(
      catalog.client.updateRepository(
        { name: "two-arches", arches: ["x86_64"], trustedKeys: [] },
        catalog.admin,
      ),
    );
    expect(invalid).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "trusted_keys" });
    const unknown = await rejection(
      catalog.client.updateRepository(
        { name: "nope", arches: ["x86_64"], trustedKeys: [key.trustedKey] },
        catalog.admin,
      ),
    );
    expect(unknown.code).toBe(Code.NOT_FOUND);
  });

  it("lets only platform administrators change repositories, and only authenticated callers read them", async () => {
    const orgId = "6d4e2f30-4444-4c2e-9a55-0d6f3c1e2a10";
    const owner = catalog.auth(catalog.memberToken(orgId, "owner"));
    const adminCalls: [string, Promise<unknown>][] = [
      ["create repositories", catalog.client.createRepository(upstream({ name: "sneaky" }), owner)],
      [
        "change repositories",
        catalog.client.updateRepository(
          { name: "edge-community", arches: ["x86_64"], trustedKeys: [key.trustedKey] },
          owner,
        ),
      ],
      ["sync repositories", catalog.client.syncRepository({ name: "edge-community" }, owner)],
    ];
    for (const [action, call] of adminCalls) {
      const error = await rejection(call);
      expect(error).toMatchObject({
        code: Code.PERMISSION_DENIED,
        message: `only a platform administrator may ${action}`,
      });
    }

    const otherKey = createTokenSigner(generateSigningKey());
    const strangers = [
      {},
      catalog.auth("not-a-token"),
      catalog.auth(
        otherKey.sign({ subject: "x", subjectName: "x", administrator: true }, "api", 60).token,
      ),
      catalog.auth(
        createTokenSigner(catalog.signingKey).sign(
          { subject: "x", subjectName: "x", administrator: true },
          "registry",
          60,
        ).token,
      ),
    ];
    for (const options of strangers) {
      const error = await rejection(catalog.client.listRepositories({}, options));
      expect(error.code).toBe(Code.UNAUTHENTICATED);
    }
    const wrongAudience = await rejection(
      catalog.client.createRepository(
        upstream({ name: "sneaky" }),
        catalog.auth(
          createTokenSigner(catalog.signingKey).sign(
            { subject: "x", subjectName: "x", administrator: true },
            "registry",
            60,
          ).token,
        ),
      ),
    );
    expect(wrongAudience.message).toContain('token is for audience "registry", not "api"');
    expect((await catalog.client.listRepositories({}, owner)).repositories.length).toBeGreaterThan(
      0,
    );
  });
});
