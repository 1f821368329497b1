// The catalog and the entitlement service together, as they run in production:
// tokens minted by entitlement from API keys, verified by the catalog with the
// public keys it fetches over gRPC (rotation included), and custom images
// allowed only where entitlement says the organization may customize.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authorizationMetadata, generateApiKey } from "@tailor/auth";
import type { BlobStore } from "@tailor/blob";
import { createDirectoryBlobStore } from "@tailor/blob";
import { createEntitlementService } from "@tailor/entitlement";
import type { CallOptions, Client } from "@tailor/grpc";
import { Code, createGrpcClient, TailorError } from "@tailor/grpc";
import { catalogV1, entitlementV1 } from "@tailor/proto";
import type { TestDatabase, TestNats, TestService } from "@tailor/testing";
import {
  createTestDatabase,
  createTestNats,
  startTestService,
  testLogger,
  testPlatformConfig,
  waitFor,
} from "@tailor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCatalogService } from "../src/index.js";

const logger = testLogger();
const { Audience, Role } = entitlementV1;

async function failureOf(promise: Promise<unknown>): Promise<TailorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TailorError);
  return error as TailorError;
}

describe("catalog with the real entitlement service", () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let blobDir: string;
  let blobs: BlobStore;
  let entitlementService: TestService;
  let catalogService: TestService;
  let entitlement: Client<typeof entitlementV1.EntitlementService> & { close(): void };
  let catalog: Client<typeof catalogV1.CatalogService> & { close(): void };
  const adminKey = generateApiKey().credential;

  /** Call options carrying a fresh token minted from `apiKey`. */
  async function as(apiKey: string, audience = Audience.API): Promise<CallOptions> {
    const { token } = await entitlement.issueToken({ apiKey, audience });
    return { metadata: authorizationMetadata(token) };
  }

  /** A member of `orgId` with `role`, returned as its API key. */
  async function member(
    admin: CallOptions,
    orgId: string,
    name: string,
    role: entitlementV1.Role,
  ): Promise<string> {
    const { identity } = await entitlement.createIdentity({ orgId, name, role }, admin);
    const { secret } = await entitlement.createApiKey({ identityId: identity?.id ?? "" }, admin);
    return secret;
  }

  beforeAll(async () => {
    nats = await createTestNats();
    pg = await createTestDatabase({ logger });
    blobDir = await mkdtemp(join(tmpdir(), "tailor-catalog-e2e-"));
    blobs = await createDirectoryBlobStore({ root: blobDir });
    // One configuration for both, so each finds the other at its address.
    const config = await testPlatformConfig(nats);
    entitlementService = await startTestService(
      createEntitlementService({ environment: { TAILOR_BOOTSTRAP_ADMIN_KEY: adminKey } }),
      { database: pg.database, nats, config, logger },
    );
    catalogService = await startTestService(
      createCatalogService({
        environment: { TAILOR_CATALOG_SYNC_INTERVAL_SECONDS: "0" },
        blobs,
      }),
      { database: pg.database, nats, config, logger },
    );
    entitlement = createGrpcClient(entitlementV1.EntitlementService, {
      address: config.entitlementAddress,
    });
    catalog = createGrpcClient(catalogV1.CatalogService, { address: config.catalogAddress });
  });

  afterAll(async () => {
    entitlement?.close();
    catalog?.close();
    await catalogService?.stop();
    await entitlementService?.stop();
    await blobs?.close();
    await pg?.cleanup();
    await nats?.cleanup();
    if (blobDir !== undefined) await rm(blobDir, { recursive: true, force: true });
  });

  it("lets an entitled editor customize, keeps tenants apart, and follows key rotation", async () => {
    const admin = await as(adminKey);
    const acme = (await entitlement.createOrganization({ name: "acme" }, admin)).organization;
    const globex = (await entitlement.createOrganization({ name: "globex" }, admin)).organization;
    const acmeId = acme?.id ?? "";
    const globexId = globex?.id ?? "";
    await entitlement.setCustomAssembly(
      { orgId: acmeId, enabled: true, customizableSourceImages: ["python"] },
      admin,
    );

    const yaml = await readFile(
      new URL("../src/source-images/testdata/python-wolfi.yaml", import.meta.url),
      "utf8",
    );
    // The administrator's token, minted by entitlement, is verified by the catalog.
    await catalog.putSourceImage({ name: "python", yaml }, admin);

    const acmeEditorKey = await member(admin, acmeId, "ci-bot", Role.EDITOR);
    const acmeViewerKey = await member(admin, acmeId, "auditor", Role.VIEWER);
    const globexOwnerKey = await member(admin, globexId, "boss", Role.OWNER);
    const acmeEditor = await as(acmeEditorKey);

    const created = await catalog.createCustomImage(
      {
        orgId: acmeId,
        name: "api",
        sourceImage: "python",
        overlay: { packages: ["curl"], environment: { APP_MODE: "prod" } },
      },
      acmeEditor,
    );
    expect(created.customImage).toMatchObject({ revision: 1, author: "ci-bot" });

    // A viewer reads but may not change.
    const acmeViewer = await as(acmeViewerKey);
    const read = await catalog.getCustomImage({ orgId: acmeId, name: "api" }, acmeViewer);
    expect(read.customImage?.overlay?.packages).toEqual(["curl"]);
    const viewerUpdate = await failureOf(
      catalog.updateCustomImage(
        { orgId: acmeId, name: "api", overlay: { packages: ["jq"] } },
        acmeViewer,
      ),
    );
    expect(viewerUpdate.code).toBe(Code.PERMISSION_DENIED);

    // Another organization neither sees acme's image nor may customize without custom assembly.
    const globexOwner = await as(globexOwnerKey);
    const crossTenant = await failureOf(
      catalog.getCustomImage({ orgId: acmeId, name: "api" }, globexOwner),
    );
    expect(crossTenant.code).toBe(Code.NOT_FOUND);
    expect(crossTenant.message).not.toContain("api");
    const notEnabled = await failureOf(
      catalog.createCustomImage(
        { orgId: globexId, name: "mine", sourceImage: "python", overlay: {} },
        globexOwner,
      ),
    );
    expect(notEnabled.code).toBe(Code.FAILED_PRECONDITION);
    expect(notEnabled.field).toBe("org_id");

    // A registry token is for pulling images, not for the API.
    const registryToken = await as(acmeEditorKey, Audience.REGISTRY);
    const wrongAudience = await failureOf(
      catalog.listCustomImages({ orgId: acmeId }, registryToken),
    );
    expect(wrongAudience.code).toBe(Code.UNAUTHENTICATED);
    expect(wrongAudience.reason).toBe("token_wrong_audience");

    // Rotation: tokens signed by the new key are accepted by the catalog once it
    // reloads the keys (about a second), and the earlier token keeps working.
    const rotated = await entitlement.rotateSigningKey({}, admin);
    const afterRotation = await as(acmeEditorKey);
    await waitFor(
      async () => {
        try {
          return await catalog.listCustomImages({ orgId: acmeId }, afterRotation);
        } catch (error) {
          if (error instanceof TailorError && error.code === Code.UNAUTHENTICATED) return undefined;
          throw error;
        }
      },
      { timeoutMs: 5000, intervalMs: 200 },
    );
    const { claims } = await entitlement.verifyToken({
      token: afterRotation.metadata?.authorization?.replace("Bearer ", "") ?? "",
      audience: Audience.API,
    });
    expect(claims?.keyId).toBe(rotated.key?.id);
    const listed = await catalog.listCustomImages({ orgId: acmeId }, acmeEditor);
    expect(listed.customImages.map((image) => image.name)).toEqual(["api"]);
  });
});
