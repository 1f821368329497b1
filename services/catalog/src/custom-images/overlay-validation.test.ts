import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidFieldsError } from "../source-images/field-problem.js";
import type { Overlay } from "./custom-image.js";
import type { OverlayContext } from "./overlay-validation.js";
import {
  assertValidOverlay,
  MAX_CERTIFICATES_BYTES,
  MAX_RUNTIME_KEYS_BYTES,
  validateOverlay,
} from "./overlay-validation.js";

const testdata = (name: string) =>
  readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");
const rootCa = testdata("test-root-ca.pem");
const leaf = testdata("test-leaf.pem");
const selfSigned = testdata("test-self-signed.pem");

const rsaKey = (bits: number) =>
  generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({
    type: "spki",
    format: "pem",
  }) as string;
const rsa2048 = rsaKey(2048);
const rsaPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaPrivate = rsaPair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const rsaPkcs1Public = rsaPair.publicKey.export({ type: "pkcs1", format: "pem" }) as string;
const ecPublic = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({
  type: "spki",
  format: "pem",
}) as string;

const context: OverlayContext = {
  sourceImage: "python",
  sourcePackages: ["python-3.12", "ca-certificates-bundle", "wolfi-baselayout>=20230201"],
  sourceAccounts: {
    users: [{ username: "nonroot", uid: 65532, gid: 65532, shell: "", homeDir: "/home/nonroot" }],
    groups: [{ groupname: "nonroot", gid: 65532, members: ["nonroot"] }],
    runAs: "nonroot",
  },
  sourceKeyNames: ["wolfi-signing.rsa.pub"],
  endOfLifeOnly: new Map([["python-3.8", "python 3.8 reached end of life in October 2024"]]),
};

function overlay(changes: Partial<Overlay> = {}): Overlay {
  return {
    packages: [],
    environment: {},
    annotations: {},
    accounts: { users: [], groups: [], runAs: "" },
    certificates: [],
    repositories: [],
    keys: [],
    ...changes,
  };
}

function accounts(changes: Partial<Overlay["accounts"]>): Overlay["accounts"] {
  return { users: [], groups: [], runAs: "", ...changes };
}

function user(
  username: string,
  uid: number,
  extra: Partial<Overlay["accounts"]["users"][number]> = {},
) {
  return { username, uid, gid: uid, shell: "", homeDir: "", ...extra };
}

/** The problems of an overlay as `field: message` lines. */
function problems(changes: Partial<Overlay>): string[] {
  return validateOverlay(overlay(changes), context).map((p) => `${p.field}: ${p.message}`);
}

function expectOneProblem(changes: Partial<Overlay>, field: string, message: string | RegExp) {
  const found = validateOverlay(overlay(changes), context);
  expect(found, JSON.stringify(found)).toHaveLength(1);
  expect(found[0]?.field).toBe(field);
  if (typeof message === "string") expect(found[0]?.message).toContain(message);
  else expect(found[0]?.message).toMatch(message);
}

describe("a complete, valid overlay", () => {
  it("has no problems", () => {
    expect(
      problems({
        packages: ["curl", "py3.12-pip>=24", "so:libssl.so.3", "cmd:jq"],
        environment: { APP_MODE: "production", _PRIVATE: "1", PATH: "/usr/local/bin:/usr/bin" },
        annotations: { "org.opencontainers.image.title": "api", "com.acme/team": "payments" },
        accounts: accounts({
          users: [user("app", 1000, { gid: 1000, shell: "/bin/sh", homeDir: "/srv/app" })],
          groups: [{ groupname: "app", gid: 1000, members: ["app", "nonroot"] }],
          runAs: "app",
        }),
        certificates: [
          { name: "acme-root", pem: rootCa },
          { name: "internal.server", pem: selfSigned },
        ],
        repositories: ["https://packages.acme.com/os", "https://[2001:db8::1]/alpine"],
        keys: [{ name: "acme-packages.rsa.pub", pem: rsa2048 }],
      }),
    ).toEqual([]);
  });
});

describe("packages", () => {
  it("must be apk atoms", () => {
    expectOneProblem(
      { packages: ["curl", "bad package"] },
      "overlay.packages[1]",
      "without spaces",
    );
    expectOneProblem(
      { packages: ["curl>=not a version"] },
      "overlay.packages[0]",
      /without spaces/,
    );
    expectOneProblem(
      { packages: ["curl>=1..2"] },
      "overlay.packages[0]",
      "is not a valid apk atom",
    );
    expectOneProblem({ packages: [""] }, "overlay.packages[0]", "must not be empty");
    expect(problems({ packages: ["curl>=8.5.0-r0", "jq=1.7.1-r0", "python3~3.12"] })).toEqual([]);
  });

  it("may not be listed twice", () => {
    expectOneProblem(
      { packages: ["curl", "jq", "curl>=8"] },
      "overlay.packages[2]",
      'package "curl" is listed twice (also at overlay.packages[0])',
    );
  });

  it("may never remove a package of the source image", () => {
    expectOneProblem(
      { packages: ["!python-3.12"] },
      "overlay.packages[0]",
      'cannot remove package "python-3.12" of source image "python"',
    );
    expectOneProblem(
      { packages: ["!wolfi-baselayout"] },
      "overlay.packages[0]",
      'cannot remove package "wolfi-baselayout" of source image "python"',
    );
  });

  it("may not forbid any package", () => {
    expectOneProblem(
      { packages: ["!bash"] },
      "overlay.packages[0]",
      "an overlay can only add packages",
    );
  });

  it("may not list or constrain the source image's own packages", () => {
    expectOneProblem(
      { packages: ["ca-certificates-bundle"] },
      "overlay.packages[0]",
      'package "ca-certificates-bundle" is already part of source image "python"',
    );
    expectOneProblem(
      { packages: ["python-3.12<3.12.5"] },
      "overlay.packages[0]",
      /follows the source image's version and cannot be constrained by "python-3.12<3.12.5"/,
    );
  });

  it("may not use repository tags or checksum pins", () => {
    expectOneProblem({ packages: ["curl@edge"] }, "overlay.packages[0]", 'repository tag "@edge"');
    expectOneProblem(
      { packages: ["curl><Q1Wb4fDOpBmDdcKUHzNJAZKdydQYo="] },
      "overlay.packages[0]",
      "pins a checksum",
    );
  });

  it("may not name an end-of-life stream without a supported version", () => {
    expectOneProblem(
      { packages: ["python-3.8"] },
      "overlay.packages[0]",
      'package "python-3.8" is end-of-life and has no supported version (python 3.8 reached end of life in October 2024)',
    );
  });
});

describe("environment", () => {
  it("names must be shell variable names", () => {
    for (const bad of ["1ST", "MY-VAR", "A B", "", "É"]) {
      expectOneProblem(
        { environment: { [bad]: "x" } },
        `overlay.environment.${bad}`,
        "is not a valid variable name",
      );
    }
    expect(problems({ environment: { a: "", A1_B: "x", _: "y" } })).toEqual([]);
  });

  it("names starting with TAILOR_ are reserved, in any case", () => {
    expectOneProblem(
      { environment: { TAILOR_X: "1" } },
      "overlay.environment.TAILOR_X",
      '"TAILOR_X" is reserved: names starting with TAILOR_ are set by Tailor',
    );
    expectOneProblem(
      { environment: { tailor_y: "1" } },
      "overlay.environment.tailor_y",
      "is reserved",
    );
    expect(problems({ environment: { TAILORED: "1", MY_TAILOR_X: "1" } })).toEqual([]);
  });

  it("values may not hold NUL", () => {
    expectOneProblem({ environment: { A: "x\0y" } }, "overlay.environment.A", "NUL");
  });
});

describe("annotations", () => {
  it("keys under Tailor's prefix or set by Tailor are reserved", () => {
    expectOneProblem(
      { annotations: { "dev.tailor.build-id": "x" } },
      "overlay.annotations.dev.tailor.build-id",
      'keys starting with "dev.tailor." are set by Tailor',
    );
    for (const key of [
      "org.opencontainers.image.created",
      "org.opencontainers.image.version",
      "org.opencontainers.image.revision",
      "org.opencontainers.image.ref.name",
      "org.opencontainers.image.base.name",
      "org.opencontainers.image.base.digest",
    ]) {
      expectOneProblem(
        { annotations: { [key]: "x" } },
        `overlay.annotations.${key}`,
        "Tailor sets it",
      );
    }
    expect(
      problems({
        annotations: {
          "org.opencontainers.image.title": "t",
          "org.opencontainers.image.description": "d",
          "org.opencontainers.image.source": "https://github.com/acme/api",
          "dev.tailored": "x",
        },
      }),
    ).toEqual([]);
  });

  it("keys must be well formed", () => {
    expectOneProblem(
      { annotations: { "bad key": "x" } },
      "overlay.annotations.bad key",
      "not a valid annotation key",
    );
    expectOneProblem(
      { annotations: { ".hidden": "x" } },
      "overlay.annotations..hidden",
      "not a valid annotation key",
    );
  });
});

describe("accounts", () => {
  it("user and group names must be valid account names", () => {
    expectOneProblem(
      { accounts: accounts({ users: [user("Bad:Name", 1000)] }) },
      "overlay.accounts.users[0].username",
      '"Bad:Name" is not a valid user name',
    );
    expectOneProblem(
      { accounts: accounts({ groups: [{ groupname: "9lives", gid: 1000, members: [] }] }) },
      "overlay.accounts.groups[0].groupname",
      "is not a valid group name",
    );
    expectOneProblem(
      {
        accounts: accounts({
          groups: [{ groupname: "app", gid: 1000, members: ["ok", "no way"] }],
        }),
      },
      "overlay.accounts.groups[0].members[1]",
      '"no way" is not a valid user name',
    );
  });

  it("uids and gids must be within 1..65534", () => {
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000), user("evil", 0)] }) },
      "overlay.accounts.users[1].uid",
      "must be between 1 and 65534, not 0",
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 70000, { gid: 0 })] }) },
      "overlay.accounts.users[0].uid",
      "not 70000",
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000, { gid: 65535 })] }) },
      "overlay.accounts.users[0].gid",
      "not 65535",
    );
    expectOneProblem(
      { accounts: accounts({ groups: [{ groupname: "app", gid: 0, members: [] }] }) },
      "overlay.accounts.groups[0].gid",
      "not 0",
    );
    expect(
      problems({ accounts: accounts({ users: [user("app", 1, { gid: 0 }), user("b", 65534)] }) }),
    ).toEqual([]);
  });

  it("names and ids must be unique, among themselves and against the source image", () => {
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000), user("app", 1001)] }) },
      "overlay.accounts.users[1].username",
      'user "app" is already defined by overlay.accounts.users[0]',
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000), user("web", 1000)] }) },
      "overlay.accounts.users[1].uid",
      "uid 1000 is already used by overlay.accounts.users[0]",
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("nonroot", 1000)] }) },
      "overlay.accounts.users[0].username",
      'user "nonroot" is already defined by source image "python"',
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 65532)] }) },
      "overlay.accounts.users[0].uid",
      'uid 65532 is already used by user "nonroot" of source image "python"',
    );
    expectOneProblem(
      { accounts: accounts({ groups: [{ groupname: "web", gid: 65532, members: [] }] }) },
      "overlay.accounts.groups[0].gid",
      'gid 65532 is already used by group "nonroot" of source image "python"',
    );
    expectOneProblem(
      {
        accounts: accounts({
          groups: [
            { groupname: "web", gid: 2000, members: [] },
            { groupname: "web", gid: 2001, members: [] },
          ],
        }),
      },
      "overlay.accounts.groups[1].groupname",
      'group "web" is already defined by overlay.accounts.groups[0]',
    );
  });

  it("shell and home directory must be safe absolute paths", () => {
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000, { shell: "bin/sh" })] }) },
      "overlay.accounts.users[0].shell",
      "must be an absolute path",
    );
    expectOneProblem(
      { accounts: accounts({ users: [user("app", 1000, { homeDir: "/home/app:/bin/sh" })] }) },
      "overlay.accounts.users[0].home_dir",
      "without ':'",
    );
  });

  it("run_as names a user of the overlay or the source image, root, or a numeric uid", () => {
    expectOneProblem(
      { accounts: accounts({ runAs: "ghost" }) },
      "overlay.accounts.run_as",
      '"ghost" is neither a user of the overlay or of source image "python" nor a numeric uid',
    );
    for (const runAs of ["nonroot", "1234", "0", "root"]) {
      expect(problems({ accounts: accounts({ runAs }) })).toEqual([]);
    }
    expect(problems({ accounts: accounts({ users: [user("app", 1000)], runAs: "app" }) })).toEqual(
      [],
    );
  });
});

describe("certificates", () => {
  it("accepts CA and self-signed certificates, and bundles of them", () => {
    expect(
      problems({
        certificates: [{ name: "bundle", pem: `# ACME roots\n${rootCa}\n${selfSigned}` }],
      }),
    ).toEqual([]);
  });

  it("refuses private keys, even next to a certificate", () => {
    expectOneProblem(
      {
        certificates: [
          { name: "ok", pem: rootCa },
          { name: "oops", pem: `${rootCa}\n${rsaPrivate}` },
        ],
      },
      "overlay.certificates[1].pem",
      "contains a private key",
    );
    expectOneProblem(
      {
        certificates: [
          {
            name: "ec",
            pem: "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
          },
        ],
      },
      "overlay.certificates[0].pem",
      "contains a private key",
    );
  });

  it("refuses what is not a certificate", () => {
    expectOneProblem(
      { certificates: [{ name: "a", pem: "hello" }] },
      "overlay.certificates[0].pem",
      "holds no PEM certificate",
    );
    expectOneProblem(
      { certificates: [{ name: "a", pem: rsa2048 }] },
      "overlay.certificates[0].pem",
      '"PUBLIC KEY", not a CERTIFICATE',
    );
    expectOneProblem(
      {
        certificates: [
          {
            name: "a",
            pem: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
          },
        ],
      },
      "overlay.certificates[0].pem",
      "is not a valid X.509 certificate",
    );
    expectOneProblem(
      { certificates: [{ name: "a", pem: rootCa.replace(/-----END CERTIFICATE-----\s*$/, "") }] },
      "overlay.certificates[0].pem",
      'has a "BEGIN CERTIFICATE" without its END line',
    );
    expectOneProblem(
      { certificates: [{ name: "a", pem: `${rootCa}\ntrailing garbage` }] },
      "overlay.certificates[0].pem",
      'has text outside its PEM blocks ("trailing garbage")',
    );
  });

  it("refuses a certificate that is neither a CA nor self-signed", () => {
    expectOneProblem(
      { certificates: [{ name: "server", pem: leaf }] },
      "overlay.certificates[0].pem",
      /\(O=Tailor Test, CN=leaf\.example\.com\) is neither a CA certificate nor self-signed/,
    );
  });

  it("names are safe file names, unique", () => {
    expectOneProblem(
      { certificates: [{ name: "../etc/passwd", pem: rootCa }] },
      "overlay.certificates[0].name",
      "is not a valid certificate name",
    );
    expectOneProblem(
      {
        certificates: [
          { name: "a", pem: rootCa },
          { name: "a", pem: selfSigned },
        ],
      },
      "overlay.certificates[1].name",
      'certificate name "a" is already used by overlay.certificates[0]',
    );
  });

  it("may total at most 50 KB", () => {
    const many = Array.from(
      { length: Math.ceil(MAX_CERTIFICATES_BYTES / rootCa.length) + 1 },
      (_, i) => ({
        name: `ca-${i}`,
        pem: rootCa,
      }),
    );
    expectOneProblem({ certificates: many }, "overlay.certificates", /the limit is 51200 bytes/);
  });
});

describe("runtime repositories", () => {
  it("must be HTTPS URLs without credentials, query or fragment", () => {
    expectOneProblem(
      { repositories: ["http://packages.acme.com/os"] },
      "overlay.repositories[0]",
      "must use https://, not http://",
    );
    expectOneProblem(
      { repositories: ["ftp://packages.acme.com/os"] },
      "overlay.repositories[0]",
      "must use https://",
    );
    expectOneProblem(
      { repositories: ["packages.acme.com/os"] },
      "overlay.repositories[0]",
      "is not a URL",
    );
    expectOneProblem(
      { repositories: ["https://user:secret@packages.acme.com/os"] },
      "overlay.repositories[0]",
      "must not carry credentials",
    );
    expectOneProblem(
      { repositories: ["https://packages.acme.com/os?x=1"] },
      "overlay.repositories[0]",
      "query or fragment",
    );
  });

  it("must be unique", () => {
    expectOneProblem(
      { repositories: ["https://packages.acme.com/os", "https://PACKAGES.acme.com/os/"] },
      "overlay.repositories[1]",
      "is listed twice (also at overlay.repositories[0])",
    );
  });

  it("may not point at loopback, private, link-local or internal hosts", () => {
    const refused: Array<[string, string]> = [
      ["https://127.0.0.1/os", "loopback"],
      ["https://127.1.2.3/os", "loopback"],
      ["https://0x7f.1/os", "loopback"],
      ["https://2130706433/os", "loopback"],
      ["https://10.1.2.3/os", "private address (10.0.0.0/8)"],
      ["https://172.16.0.1/os", "172.16.0.0/12"],
      ["https://172.31.255.255/os", "172.16.0.0/12"],
      ["https://192.168.1.10/os", "192.168.0.0/16"],
      ["https://169.254.169.254/latest", "link-local"],
      ["https://0.0.0.0/os", "unspecified"],
      ["https://[::1]/os", "loopback address (::1)"],
      ["https://[::]/os", "unspecified"],
      ["https://[fd12:3456::1]/os", "unique-local"],
      ["https://[fc00::1]/os", "unique-local"],
      ["https://[fe80::1]/os", "link-local address (fe80::/10)"],
      ["https://[::ffff:127.0.0.1]/os", "IPv4-mapped address that is a loopback"],
      ["https://[::ffff:10.0.0.1]/os", "IPv4-mapped"],
      ["https://localhost/os", "loopback name"],
      ["https://LOCALHOST./os", "loopback name"],
      ["https://repo.localhost/os", "loopback name"],
      ["https://printer.local/os", ".local"],
      ["https://apk.corp.internal/os", ".internal"],
      ["https://intranet/os", "single-label"],
    ];
    for (const [url, why] of refused) {
      const found = validateOverlay(overlay({ repositories: [url] }), context);
      expect(found, url).toHaveLength(1);
      expect(found[0]?.field).toBe("overlay.repositories[0]");
      expect(found[0]?.message, url).toContain(why);
      expect(found[0]?.message, url).toContain("not a public host");
    }
  });

  it("accepts public hosts and addresses next to the private ranges", () => {
    expect(
      problems({
        repositories: [
          "https://packages.wolfi.dev/os",
          "https://172.32.0.1/os",
          "https://172.15.255.255/os",
          "https://192.169.0.1/os",
          "https://8.8.8.8/os",
          "https://[2606:4700::1111]/os",
          "https://packages.acme.com:8443/alpine/v3.20/main",
        ],
      }),
    ).toEqual([]);
  });
});

describe("runtime keys", () => {
  it("accepts one PEM RSA public key of at least 2048 bits", () => {
    expect(problems({ keys: [{ name: "acme@example.com-5f3c.rsa.pub", pem: rsa2048 }] })).toEqual(
      [],
    );
  });

  it("refuses private keys", () => {
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: rsaPrivate }] },
      "overlay.keys[0].pem",
      "contains a private key",
    );
  });

  it("refuses anything but exactly one SubjectPublicKeyInfo RSA key", () => {
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: `${rsa2048}\n${rsa2048}` }] },
      "overlay.keys[0].pem",
      "exactly one PEM public key, not 2 PEM blocks",
    );
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: "" }] },
      "overlay.keys[0].pem",
      "not 0 PEM blocks",
    );
    expectOneProblem(
      { keys: [{ name: "a.ec.pub", pem: ecPublic }] },
      "overlay.keys[0].pem",
      "is an ec key",
    );
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: rsaPkcs1Public }] },
      "overlay.keys[0].pem",
      '"RSA PUBLIC KEY" block',
    );
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: rootCa }] },
      "overlay.keys[0].pem",
      '"CERTIFICATE" block',
    );
    expectOneProblem(
      {
        keys: [
          { name: "a.rsa.pub", pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
        ],
      },
      "overlay.keys[0].pem",
      "is not a valid public key",
    );
    expectOneProblem(
      { keys: [{ name: "a.rsa.pub", pem: rsaKey(1024) }] },
      "overlay.keys[0].pem",
      "1024-bit RSA key",
    );
  });

  it("names are safe, unique .pub file names that do not replace the source image's keys", () => {
    for (const bad of ["../x.pub", "keys/x.pub", "x.rsa", ".hidden.pub", "a..pub", ""]) {
      expectOneProblem(
        { keys: [{ name: bad, pem: rsa2048 }] },
        "overlay.keys[0].name",
        "is not a valid key file name",
      );
    }
    expectOneProblem(
      {
        keys: [
          { name: "a.rsa.pub", pem: rsa2048 },
          { name: "a.rsa.pub", pem: rsa2048 },
        ],
      },
      "overlay.keys[1].name",
      'key name "a.rsa.pub" is already used by overlay.keys[0]',
    );
    expectOneProblem(
      { keys: [{ name: "wolfi-signing.rsa.pub", pem: rsa2048 }] },
      "overlay.keys[0].name",
      'is already a key of source image "python"',
    );
  });

  it("may total at most 512 KB", () => {
    const keys = Array.from(
      { length: Math.ceil(MAX_RUNTIME_KEYS_BYTES / rsa2048.length) + 1 },
      (_, i) => ({
        name: `k${i}.rsa.pub`,
        pem: rsa2048,
      }),
    );
    expectOneProblem({ keys }, "overlay.keys", /the limit is 524288 bytes/);
  });
});

describe("all problems at once", () => {
  it("are reported together, in field order, and the error names the first field", () => {
    const bad = overlay({
      packages: ["!python-3.12", "curl", "curl"],
      environment: { TAILOR_X: "1" },
      annotations: { "dev.tailor.x": "1" },
      accounts: accounts({ runAs: "ghost" }),
      certificates: [{ name: "c", pem: rsaPrivate }],
      repositories: ["http://x.example.com"],
      keys: [{ name: "k.pub", pem: "" }],
    });
    const error = (() => {
      try {
        assertValidOverlay(bad, context, 'custom image "api"');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidFieldsError);
    const invalid = error as InvalidFieldsError;
    expect(invalid.problems.map((p) => p.field)).toEqual([
      "overlay.packages[0]",
      "overlay.packages[2]",
      "overlay.environment.TAILOR_X",
      "overlay.annotations.dev.tailor.x",
      "overlay.accounts.run_as",
      "overlay.certificates[0].pem",
      "overlay.repositories[0]",
      "overlay.keys[0].pem",
    ]);
    expect(invalid.field).toBe("overlay.packages[0]");
    expect(invalid.message).toMatch(
      /^custom image "api" is invalid \(8 problems\): overlay\.packages\[0\]: cannot remove/,
    );
    expect(invalid.message).toContain("overlay.keys[0].pem: must hold exactly one PEM public key");
  });
});
