// Overlay validation as a caller sees it over gRPC: INVALID_ARGUMENT, the
// exact request path in the error's `field`, every problem in the message
// and in the metadata.
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@tailor/grpc";
import type { catalogV1 } from "@tailor/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningCatalog } from "./support/start-catalog.js";
import { startCatalog } from "./support/start-catalog.js";
import type { FakeEntitlement } from "./support-images.js";
import { rejectionOf, startFakeEntitlement } from "./support-images.js";

type OverlayInit = MessageInitShape<typeof catalogV1.OverlaySchema>;

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");
const pythonYaml = read("../src/source-images/testdata/python-wolfi.yaml");
const rootCa = read("../src/custom-images/testdata/test-root-ca.pem");
const leafCertificate = read("../src/custom-images/testdata/test-leaf.pem");
const rsaPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaPublic = rsaPair.publicKey.export({ type: "spki", format: "pem" }) as string;
const rsaPrivate = rsaPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const ecPublic = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;

const ORG = "5e1f3a52-5d0e-4a51-9d7e-7a0c4c1f0b01";

describe("overlay validation over gRPC", () => {
  let catalog: RunningCatalog;
  let entitlement: FakeEntitlement;
  let editor: ReturnType<RunningCatalog["auth"]>;
  let counter = 0;

  /** Creates a custom image with `overlay` and returns the refusal. */
  const refusal = (overlay: OverlayInit) =>
    rejectionOf(
      catalog.client.createCustomImage(
        { orgId: ORG, name: `img-${++counter}`, sourceImage: "python", overlay },
        editor,
      ),
    );

  beforeAll(async () => {
    catalog = await startCatalog();
    entitlement = await startFakeEntitlement(catalog.service.config);
    entitlement.organizations.set(ORG, {
      id: ORG,
      name: "acme",
      customAssemblyEnabled: true,
      customizableSourceImages: ["python"],
    });
    editor = catalog.auth(catalog.memberToken(ORG, "editor"));
    await catalog.client.putSourceImage({ name: "python", yaml: pythonYaml }, catalog.admin);
    await catalog.client.setEndOfLife(
      { packageName: "python-3.8", reason: "Python 3.8 is no longer maintained" },
      catalog.admin,
    );
  });

  afterAll(async () => {
    await entitlement?.stop();
    await catalog?.stop();
  });

  it("accepts an overlay that uses every kind of addition", async () => {
    const created = await catalog.client.createCustomImage(
      {
        orgId: ORG,
        name: "full",
        sourceImage: "python",
        overlay: {
          packages: ["curl", "py3.12-requests>=2.31"],
          environment: { APP_MODE: "production" },
          annotations: { "org.opencontainers.image.title": "full" },
          accounts: {
            users: [{ username: "app", uid: 1000, gid: 1000, homeDir: "/srv/app" }],
            runAs: "app",
          },
          certificates: [{ name: "acme-root", pem: rootCa }],
          repositories: ["https://packages.acme.com/os"],
          keys: [{ name: "acme.rsa.pub", pem: rsaPublic }],
        },
      },
      editor,
    );
    expect(created.customImage?.overlay?.certificates[0]?.name).toBe("acme-root");
    expect(created.customImage?.overlay?.keys[0]?.pem).toBe(rsaPublic);
  });

  const rules: Array<[string, OverlayInit, string, string]> = [
    [
      "a malformed atom",
      { packages: ["curl", "py>="] },
      "overlay.packages[1]",
      "is not a valid apk atom",
    ],
    [
      "a duplicate package",
      { packages: ["curl", "curl"] },
      "overlay.packages[1]",
      'package "curl" is listed twice',
    ],
    [
      "removing a source package",
      { packages: ["!python-3.12"] },
      "overlay.packages[0]",
      'cannot remove package "python-3.12" of source image "python"',
    ],
    [
      "re-listing a source package",
      { packages: ["wolfi-baselayout>=1"] },
      "overlay.packages[0]",
      "follows the source image's version",
    ],
    [
      "an end-of-life stream",
      { packages: ["python-3.8"] },
      "overlay.packages[0]",
      'package "python-3.8" is end-of-life and has no supported version (Python 3.8 is no longer maintained)',
    ],
    [
      "a bad variable name",
      { environment: { "MY-VAR": "1" } },
      "overlay.environment.MY-VAR",
      "is not a valid variable name",
    ],
    [
      "a reserved variable",
      { environment: { TAILOR_X: "1" } },
      "overlay.environment.TAILOR_X",
      '"TAILOR_X" is reserved',
    ],
    [
      "a reserved annotation prefix",
      { annotations: { "dev.tailor.build": "x" } },
      "overlay.annotations.dev.tailor.build",
      "is reserved",
    ],
    [
      "an annotation Tailor sets",
      { annotations: { "org.opencontainers.image.created": "x" } },
      "overlay.annotations.org.opencontainers.image.created",
      "Tailor sets it",
    ],
    [
      "a bad user name",
      { accounts: { users: [{ username: "Root!", uid: 1000 }] } },
      "overlay.accounts.users[0].username",
      "is not a valid user name",
    ],
    [
      "uid 0",
      { accounts: { users: [{ username: "app", uid: 0 }] } },
      "overlay.accounts.users[0].uid",
      "must be between 1 and 65534, not 0",
    ],
    [
      "a uid of the source image",
      { accounts: { users: [{ username: "app", uid: 65532 }] } },
      "overlay.accounts.users[0].uid",
      'uid 65532 is already used by user "nonroot" of source image "python"',
    ],
    [
      "a source user name",
      { accounts: { users: [{ username: "nonroot", uid: 1000 }] } },
      "overlay.accounts.users[0].username",
      'user "nonroot" is already defined by source image "python"',
    ],
    [
      "a duplicate gid",
      {
        accounts: {
          groups: [
            { groupname: "a", gid: 2000 },
            { groupname: "b", gid: 2000 },
          ],
        },
      },
      "overlay.accounts.groups[1].gid",
      "gid 2000 is already used by overlay.accounts.groups[0]",
    ],
    [
      "run_as nobody known",
      { accounts: { runAs: "ghost" } },
      "overlay.accounts.run_as",
      '"ghost" is neither a user',
    ],
    [
      "a private key as certificate",
      { certificates: [{ name: "oops", pem: rsaPrivate }] },
      "overlay.certificates[0].pem",
      "contains a private key",
    ],
    [
      "a non-certificate",
      {
        certificates: [
          { name: "a", pem: rootCa },
          { name: "b", pem: "hello" },
        ],
      },
      "overlay.certificates[1].pem",
      "holds no PEM certificate",
    ],
    [
      "a leaf certificate",
      { certificates: [{ name: "server", pem: leafCertificate }] },
      "overlay.certificates[0].pem",
      "is neither a CA certificate nor self-signed",
    ],
    [
      "a bad certificate name",
      { certificates: [{ name: "../ca", pem: rootCa }] },
      "overlay.certificates[0].name",
      "is not a valid certificate name",
    ],
    [
      "too many certificate bytes",
      { certificates: Array.from({ length: 45 }, (_, i) => ({ name: `ca${i}`, pem: rootCa })) },
      "overlay.certificates",
      "the limit is 51200 bytes",
    ],
    [
      "a plain-HTTP repository",
      { repositories: ["http://packages.acme.com/os"] },
      "overlay.repositories[0]",
      "must use https://",
    ],
    [
      "a loopback repository",
      { repositories: ["https://127.0.0.1/os"] },
      "overlay.repositories[0]",
      "loopback",
    ],
    [
      "a private repository",
      { repositories: ["https://10.0.0.8/os"] },
      "overlay.repositories[0]",
      "private address (10.0.0.0/8)",
    ],
    [
      "a link-local repository",
      { repositories: ["https://[fe80::1]/os"] },
      "overlay.repositories[0]",
      "link-local",
    ],
    [
      "an internal host name",
      { repositories: ["https://apk.corp.internal/os"] },
      "overlay.repositories[0]",
      ".internal",
    ],
    [
      "a duplicate repository",
      { repositories: ["https://a.example.com/os", "https://a.example.com/os/"] },
      "overlay.repositories[1]",
      "is listed twice",
    ],
    [
      "a private key as runtime key",
      { keys: [{ name: "a.rsa.pub", pem: rsaPrivate }] },
      "overlay.keys[0].pem",
      "contains a private key",
    ],
    [
      "an EC runtime key",
      { keys: [{ name: "a.rsa.pub", pem: ecPublic }] },
      "overlay.keys[0].pem",
      "is an ec key",
    ],
    [
      "two keys in one",
      { keys: [{ name: "a.rsa.pub", pem: `${rsaPublic}${rsaPublic}` }] },
      "overlay.keys[0].pem",
      "exactly one PEM public key",
    ],
    [
      "a key name with a path",
      { keys: [{ name: "../../etc/a.pub", pem: rsaPublic }] },
      "overlay.keys[0].name",
      "is not a valid key file name",
    ],
    [
      "a key named like the source image's",
      { keys: [{ name: "wolfi-signing.rsa.pub", pem: rsaPublic }] },
      "overlay.keys[0].name",
      'is already a key of source image "python"',
    ],
    [
      "too many key bytes",
      { keys: Array.from({ length: 1200 }, (_, i) => ({ name: `k${i}.rsa.pub`, pem: rsaPublic })) },
      "overlay.keys",
      "the limit is 524288 bytes",
    ],
  ];

  for (const [rule, overlay, field, message] of rules) {
    it(`refuses ${rule} at ${field}`, async () => {
      const error = await refusal(overlay);
      expect(error.code).toBe(Code.INVALID_ARGUMENT);
      expect(error.reason).toBe("invalid_field");
      expect(error.field).toBe(field);
      expect(error.message).toContain(`${field}: `);
      expect(error.message).toContain(message);
      expect(error.metadata[field]).toContain(message);
    });
  }

  it("reports every problem at once, on updates too, and stores nothing", async () => {
    const error = await rejectionOf(
      catalog.client.updateCustomImage(
        {
          orgId: ORG,
          name: "full",
          overlay: {
            packages: ["!python-3.12"],
            environment: { TAILOR_X: "1" },
            certificates: [{ name: "c", pem: rsaPrivate }],
            repositories: ["https://localhost/os"],
          },
        },
        editor,
      ),
    );
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.field).toBe("overlay.packages[0]");
    expect(error.message).toMatch(
      /^custom image "full" is invalid \(4 problems\): overlay\.packages\[0\]: /,
    );
    expect(error.metadata).toMatchObject({ problems: "4" });
    expect(Object.keys(error.metadata).sort()).toEqual([
      "overlay.certificates[0].pem",
      "overlay.environment.TAILOR_X",
      "overlay.packages[0]",
      "overlay.repositories[0]",
      "problems",
    ]);
    const history = await catalog.client.listCustomImageRevisions(
      { orgId: ORG, name: "full" },
      editor,
    );
    expect(history.revisions.map((r) => r.revision)).toEqual([1]);
  });
});
