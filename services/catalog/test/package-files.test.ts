// GetPackageFiles: the paths a package installs, known once its bytes are in
// the blob store (here: published), never downloaded on demand.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe("package file lists", () => {
  let catalog: RunningCatalog;
  let key: TestSigningKey;
  let upstreamDir: string;

  beforeAll(async () => {
    catalog = await startCatalog();
    key = createTestSigningKey("files.rsa.pub");
    upstreamDir = await mkdtemp(join(tmpdir(), "tailor-files-"));
    await writeSyntheticRepository(
      upstreamDir,
      "x86_64",
      [await buildPackage({ name: "lazy", version: "1.0-r0" }, key.signer)],
      key.signer,
    );
    await catalog.client.createRepository(
      {
        name: "hosted",
        kind: catalogV1.RepositoryKind.HOSTED,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.createRepository(
      {
        name: "upstream",
        kind: catalogV1.RepositoryKind.UPSTREAM,
        url: upstreamDir,
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "upstream" }, catalog.admin);
  });

  afterAll(async () => {
    await catalog?.stop();
    if (upstreamDir !== undefined) await rm(upstreamDir, { recursive: true, force: true });
  });

  it("lists a published package's files and says when the bytes were never fetched", async () => {
    const bytes = await buildPackage({ name: "tool", version: "2.0-r0" }, key.signer);
    await catalog.client.publishPackage({ repository: "hosted", content: bytes }, catalog.admin);
    const viewer = catalog.auth(
      catalog.memberToken("00000000-0000-4000-8000-000000000001", "viewer"),
    );
    const files = await catalog.client.getPackageFiles(
      { repository: "hosted", arch: "x86_64", name: "tool", version: "2.0-r0" },
      viewer,
    );
    expect(files).toMatchObject({ known: true, files: ["usr/share/tool/README"] });

    const lazy = { repository: "upstream", arch: "x86_64", name: "lazy", version: "1.0-r0" };
    expect(await catalog.client.getPackageFiles(lazy, viewer)).toMatchObject({
      known: false,
      files: [],
    });
    await catalog.client.fetchPackage(lazy, catalog.admin);
    expect(await catalog.client.getPackageFiles(lazy, viewer)).toMatchObject({
      known: true,
      files: ["usr/share/lazy/README"],
    });

    const missing = await rejection(
      catalog.client.getPackageFiles({ ...lazy, version: "9.9-r0" }, viewer),
    );
    expect(missing.code).toBe(Code.NOT_FOUND);
    expect(missing.message).toContain("upstream/x86_64/lazy-9.9-r0");
  });
});
