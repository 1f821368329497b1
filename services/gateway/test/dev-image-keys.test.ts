// -dev images and the private APK repository: the builder asks the gateway
// for the organization's repository keys, so `apk update` inside a -dev
// image trusts the index the gateway signs. Checked through the gateway's
// own registry and APK routes, as a user would see them.
import { createHash } from "node:crypto";
import { readTarGzip } from "@tailor/apk";
import { createGrpcClient } from "@tailor/grpc";
import { builderV1, gatewayV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/platform.js";
import { startTestPlatform } from "./support/platform.js";

const REPOSITORY_URL = "https://tailor.example.test/apk";

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { architecture: string };
}

describe("-dev images trust the organization's private APK repository", () => {
  let platform: TestPlatform;
  let basic: string;

  beforeAll(async () => {
    platform = await startTestPlatform({
      builderEnvironment: { TAILOR_BUILDER_APK_REPOSITORY_URL: REPOSITORY_URL },
    });
    basic = `Basic ${Buffer.from(`user:${platform.acme.viewer.apiKey}`).toString("base64")}`;
  }, 180_000);
  afterAll(async () => {
    await platform?.stop();
  });

  async function registryJson(
    path: string,
  ): Promise<{ manifests?: Descriptor[]; layers?: Descriptor[] }> {
    const response = await fetch(`${platform.url}/v2/acme/${path}`, {
      headers: {
        authorization: basic,
        accept:
          "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
      },
    });
    expect(response.status, path).toBe(200);
    return (await response.json()) as { manifests?: Descriptor[]; layers?: Descriptor[] };
  }

  /** Every file of the x86_64 image behind `tag`, later layers winning. */
  async function filesOf(image: string, tag: string): Promise<Map<string, Uint8Array>> {
    const index = await registryJson(`${image}/manifests/${tag}`);
    const child = index.manifests?.find((entry) => entry.platform?.architecture === "amd64");
    const manifest = await registryJson(`${image}/manifests/${child?.digest ?? ""}`);
    const files = new Map<string, Uint8Array>();
    for (const layer of manifest.layers ?? []) {
      const response = await fetch(`${platform.url}/v2/acme/${image}/blobs/${layer.digest}`, {
        headers: { authorization: basic },
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(layer.digest);
      for (const file of (await readTarGzip(bytes)).files) {
        if (file.entry.type === "file") files.set(file.entry.path, file.content);
      }
    }
    return files;
  }

  it("installs the repository's current key and lists the repository in the -dev image only", async () => {
    const build = await platform.buildImage("devkeys", ["jq"]);
    expect(build.failureMessage).toBe("");
    expect(build.status).toBe(builderV1.BuildStatus.SUCCEEDED);

    const configuration = await fetch(`${platform.url}/apk/acme/apk-configuration`, {
      headers: { authorization: basic },
    });
    const { jwks_uri: jwksUri } = (await configuration.json()) as { jwks_uri: string };
    const jwks = (await (await fetch(jwksUri, { headers: { authorization: basic } })).json()) as {
      keys: { kid: string }[];
    };
    // go-apk installs each JWKS key as `<kid>.rsa.pub`, fetched from `<repository>/<kid>.rsa.pub`.
    const kid = jwks.keys[0]?.kid ?? "";
    expect(kid).toMatch(/^acme-\d{8}-[0-9a-f]{8}$/);
    const keyName = `${kid}.rsa.pub`;
    const published = await (
      await fetch(`${platform.url}/apk/acme/${keyName}`, { headers: { authorization: basic } })
    ).text();

    const dev = await filesOf("devkeys", "latest-dev");
    expect(new TextDecoder().decode(dev.get(`etc/apk/keys/${keyName}`))).toBe(published);
    expect(new TextDecoder().decode(dev.get("etc/apk/repositories"))).toContain(
      `${REPOSITORY_URL}/acme`,
    );
    const runtime = await filesOf("devkeys", "latest");
    expect(runtime.has(`etc/apk/keys/${keyName}`)).toBe(false);
  });

  it("answers GetApkRepositoryKeys to members and administrators, NOT_FOUND to other organizations", async () => {
    const gateway = createGrpcClient(gatewayV1.GatewayService, {
      address: platform.config.gatewayAddress,
    });
    try {
      const mine = await gateway.getApkRepositoryKeys(
        { orgId: platform.acmeId },
        platform.acme.viewer.call,
      );
      expect(mine.orgName).toBe("acme");
      expect(mine.keys[0]?.current).toBe(true);
      expect(mine.keys[0]?.publicKeyPem).toContain("BEGIN PUBLIC KEY");
      const asAdmin = await gateway.getApkRepositoryKeys(
        { orgId: platform.acmeId },
        platform.admin,
      );
      expect(asAdmin.keys.map((key) => key.name)).toEqual(mine.keys.map((key) => key.name));
      const other = await gateway
        .getApkRepositoryKeys({ orgId: platform.acmeId }, platform.globex.owner.call)
        .catch((error: unknown) => error);
      expect(other).toMatchObject({ code: 5 });
      const missing = await gateway
        .getApkRepositoryKeys({ orgId: "" }, platform.admin)
        .catch((error: unknown) => error);
      expect(missing).toMatchObject({ code: 3, field: "org_id" });
    } finally {
      gateway.close();
    }
  });
});
