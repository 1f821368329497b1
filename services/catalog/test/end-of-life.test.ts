// End-of-life rules from administrators and from the policy file, and what
// they do to package queries.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@tailor/grpc";
import { catalogV1 } from "@tailor/proto";
import type { TestDatabase, TestNats } from "@tailor/testing";
import { createTestDatabase, createTestNats, rejection } from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEndOfLife } from "../src/end-of-life/end-of-life-rule.js";
import { loadEndOfLifeRules } from "../src/store/end-of-life-store.js";
import {
  buildPackage,
  createTestSigningKey,
  writeSyntheticRepository,
} from "./support/apk-repositories.js";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";

const POLICY_V1 = `# End-of-life policy of the test platform
endOfLife:
  - package: tool
    before: 1.2.10-r0
    reason: tool before 1.2.10 has a known vulnerability
  - package: oldlib
    reason: oldlib is no longer maintained upstream
`;

const POLICY_V2 = `endOfLife:
  - package: tool
    before: 1.2.10-r0
    reason: tool before 1.2.10 has a known vulnerability
`;

describe("end-of-life", () => {
  let root: string;
  let policy: string;
  let nats: TestNats;
  let pg: TestDatabase;
  let catalog: RunningCatalog;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tailor-catalog-eol-"));
    policy = join(root, "end-of-life.yaml");
    await writeFile(policy, POLICY_V1);
    nats = await createTestNats();
    pg = await createTestDatabase();
    catalog = await startCatalog({
      nats,
      database: pg.database,
      blobDir: join(root, "blobs"),
      environment: { TAILOR_CATALOG_EOL_POLICY: policy },
    });

    const key = createTestSigningKey("eol.rsa.pub");
    const built = [];
    for (const version of ["1.2.9-r0", "1.2.10_rc1-r0", "1.2.10-r0", "1.10-r0"]) {
      built.push(
        await buildPackage(
          { name: "tool", version, provides: [`cmd:tool=${version}`] },
          key.signer,
        ),
      );
    }
    built.push(
      await buildPackage(
        { name: "oldlib", version: "2.0-r0", provides: ["so:libold.so.2=2.0"] },
        key.signer,
      ),
    );
    built.push(
      await buildPackage(
        { name: "newlib", version: "3.0-r0", provides: ["so:libold.so.2=3.0"] },
        key.signer,
      ),
    );
    await writeSyntheticRepository(join(root, "repo"), "x86_64", built, key.signer);
    await catalog.client.createRepository(
      {
        name: "main",
        kind: catalogV1.RepositoryKind.UPSTREAM,
        url: join(root, "repo"),
        arches: ["x86_64"],
        trustedKeys: [key.trustedKey],
      },
      catalog.admin,
    );
    await catalog.client.syncRepository({ name: "main" }, catalog.admin);
  });

  afterAll(async () => {
    await catalog?.stop();
    await pg?.cleanup();
    await nats?.cleanup();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it("applies the policy file at start", async () => {
    const { rules } = await catalog.client.listEndOfLife({}, catalog.admin);
    expect(
      rules.map((rule) => [rule.packageName, rule.beforeVersion, rule.source, rule.reason]),
    ).toEqual([
      ["oldlib", "", "policy", "oldlib is no longer maintained upstream"],
      ["tool", "1.2.10-r0", "policy", "tool before 1.2.10 has a known vulnerability"],
    ]);
    // The helper the image half uses to refuse end-of-life packages.
    const loaded = await loadEndOfLifeRules(catalog.db);
    expect(isEndOfLife(loaded, "tool", "1.2.9-r0")).toBe(true);
    expect(isEndOfLife(loaded, "tool", "1.2.10_rc1-r0")).toBe(true);
    expect(isEndOfLife(loaded, "tool", "1.2.10-r0")).toBe(false);
    expect(isEndOfLife(loaded, "oldlib", "99-r0")).toBe(true);
    expect(isEndOfLife(loaded, "newlib", "3.0-r0")).toBe(false);
  });

  it("leaves end-of-life versions out of queries unless asked, and marks them", async () => {
    const versions = await catalog.client.listPackageVersions({ name: "tool" }, catalog.admin);
    expect(versions.packages.map((pkg) => pkg.version)).toEqual(["1.10-r0", "1.2.10-r0"]);
    const everything = await catalog.client.listPackageVersions(
      { name: "tool", includeEndOfLife: true },
      catalog.admin,
    );
    expect(everything.packages.map((pkg) => [pkg.version, pkg.endOfLife])).toEqual([
      ["1.10-r0", false],
      ["1.2.10-r0", false],
      ["1.2.10_rc1-r0", true],
      ["1.2.9-r0", true],
    ]);

    const search = await catalog.client.searchPackages({ repository: "main" }, catalog.admin);
    expect(search.packages.map((pkg) => pkg.name)).toEqual(["newlib", "tool"]);
    const withEol = await catalog.client.searchPackages(
      { repository: "main", includeEndOfLife: true },
      catalog.admin,
    );
    expect(withEol.packages.map((pkg) => [pkg.name, pkg.endOfLife])).toEqual([
      ["newlib", false],
      ["oldlib", true],
      ["tool", false],
    ]);
    const oldest = await catalog.client.searchPackages(
      { name: "tool", allVersions: true, includeEndOfLife: true },
      catalog.admin,
    );
    expect(oldest.packages.at(-1)).toMatchObject({ version: "1.2.9-r0", endOfLife: true });

    const providers = await catalog.client.findProviders({ name: "so:libold.so.2" }, catalog.admin);
    expect(providers.packages.map((pkg) => pkg.name)).toEqual(["newlib"]);
    const allProviders = await catalog.client.findProviders(
      { name: "so:libold.so.2", includeEndOfLife: true },
      catalog.admin,
    );
    expect(allProviders.packages.map((pkg) => pkg.name)).toEqual(["newlib", "oldlib"]);

    const one = await catalog.client.getPackage(
      { repository: "main", arch: "x86_64", name: "oldlib", version: "2.0-r0" },
      catalog.admin,
    );
    expect(one.package?.endOfLife).toBe(true);
    let flagged = 0;
    for await (const batch of catalog.client.listIndexEntries(
      { repository: "main", arch: "x86_64" },
      catalog.admin,
    )) {
      flagged += batch.packages.filter((pkg) => pkg.endOfLife).length;
    }
    expect(flagged).toBe(3);
  });

  it("lets an administrator add, replace and remove rules", async () => {
    const set = await catalog.client.setEndOfLife(
      { packageName: "newlib", reason: "replaced by newerlib" },
      catalog.admin,
    );
    expect(set.rule).toMatchObject({
      packageName: "newlib",
      beforeVersion: "",
      reason: "replaced by newerlib",
      source: "admin",
    });
    expect(
      (await catalog.client.searchPackages({ name: "newlib" }, catalog.admin)).packages,
    ).toEqual([]);

    const replaced = await catalog.client.setEndOfLife(
      { packageName: "tool", beforeVersion: "1.10-r0", reason: "only 1.10 is supported" },
      catalog.admin,
    );
    expect(replaced.rule).toMatchObject({
      packageName: "tool",
      beforeVersion: "1.10-r0",
      source: "admin",
    });
    expect(
      (await catalog.client.listPackageVersions({ name: "tool" }, catalog.admin)).packages.map(
        (pkg) => pkg.version,
      ),
    ).toEqual(["1.10-r0"]);

    const removed = await catalog.client.setEndOfLife(
      { packageName: "newlib", supported: true },
      catalog.admin,
    );
    expect(removed.rule).toBeUndefined();
    expect(
      (await catalog.client.searchPackages({ name: "newlib" }, catalog.admin)).packages,
    ).toHaveLength(1);
    expect(
      (await catalog.client.listEndOfLife({}, catalog.admin)).rules.map(
        (rule) => `${rule.packageName}:${rule.source}`,
      ),
    ).toEqual(["oldlib:policy", "tool:admin"]);

    const invalid = await rejection(
      catalog.client.setEndOfLife(
        { packageName: "tool", beforeVersion: "not a version" },
        catalog.admin,
      ),
    );
    expect(invalid).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "before_version" });
    expect(invalid.message).toContain('version "not a version" is not a valid apk version');
    const noName = await rejection(catalog.client.setEndOfLife({ packageName: "" }, catalog.admin));
    expect(noName).toMatchObject({ code: Code.INVALID_ARGUMENT, field: "package_name" });
    const editor = catalog.auth(
      catalog.memberToken("8e5f3041-5555-4c2e-9a55-0d6f3c1e2a10", "editor"),
    );
    const denied = await rejection(catalog.client.setEndOfLife({ packageName: "tool" }, editor));
    expect(denied).toMatchObject({
      code: Code.PERMISSION_DENIED,
      message: "only a platform administrator may change end-of-life rules",
    });
    expect((await catalog.client.listEndOfLife({}, editor)).rules).toHaveLength(2);
  });

  it("re-applies the policy file at the next start: the file wins, rules it dropped go, administrators' rules stay", async () => {
    await catalog.client.setEndOfLife(
      { packageName: "newlib", beforeVersion: "3.0-r0", reason: "pre-3.0 is unsafe" },
      catalog.admin,
    );
    await catalog.stop();
    await writeFile(policy, POLICY_V2);
    catalog = await startCatalog({
      nats,
      database: pg.database,
      blobDir: join(root, "blobs"),
      signingKey: catalog.signingKey,
      environment: { TAILOR_CATALOG_EOL_POLICY: policy },
    });
    const { rules } = await catalog.client.listEndOfLife({}, catalog.admin);
    expect(rules.map((rule) => [rule.packageName, rule.beforeVersion, rule.source])).toEqual([
      ["newlib", "3.0-r0", "admin"],
      ["tool", "1.2.10-r0", "policy"],
    ]);
    expect(
      (await catalog.client.searchPackages({ name: "oldlib" }, catalog.admin)).packages,
    ).toHaveLength(1);
  });

  it("refuses to start with an invalid policy file, naming the entry at fault", async () => {
    const broken = join(root, "broken.yaml");
    await writeFile(broken, "endOfLife:\n  - package: tool\n    before: one-point-two\n");
    const error = await startCatalog({
      nats,
      environment: { TAILOR_CATALOG_EOL_POLICY: broken },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(
      `end-of-life policy ${broken}: endOfLife[0].before: version "one-point-two" is not a valid apk version`,
    );
    const unknownKey = join(root, "unknown.yaml");
    await writeFile(unknownKey, "endOfLife:\n  - package: tool\n    until: 1.0\n");
    const second = await startCatalog({
      nats,
      environment: { TAILOR_CATALOG_EOL_POLICY: unknownKey },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(second?.message).toContain(
      'endOfLife[0]: unknown key "until" (use package, before, reason)',
    );
  });
});
