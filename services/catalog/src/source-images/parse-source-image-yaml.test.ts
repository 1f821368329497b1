import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InvalidFieldsError } from "./field-problem.js";
import { chooseMainPackage } from "./main-package.js";
import { MAX_SOURCE_IMAGE_YAML_BYTES, parseSourceImageYaml } from "./parse-source-image-yaml.js";

const testdataDir = new URL("./testdata/", import.meta.url);
const testdata = (name: string) => readFileSync(new URL(name, testdataDir), "utf8");

function problemsOf(yaml: string): Array<{ field: string; message: string }> {
  try {
    parseSourceImageYaml(yaml);
  } catch (error) {
    if (error instanceof InvalidFieldsError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("parseSourceImageYaml on apko image configurations", () => {
  it("reads every field Tailor uses, normalized", () => {
    const { definition, ignoredFields } = parseSourceImageYaml(testdata("python-wolfi.yaml"));
    expect(definition).toEqual({
      packages: ["python-3.12", "ca-certificates-bundle", "wolfi-baselayout", "py3.12-pip>=24.0"],
      devPackages: ["busybox", "apk-tools", "bash"],
      repositories: ["https://packages.wolfi.dev/os"],
      keyring: ["https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"],
      accounts: {
        users: [
          { username: "nonroot", uid: 65532, gid: 65532, shell: "", homeDir: "/home/nonroot" },
        ],
        groups: [{ groupname: "nonroot", gid: 65532, members: ["nonroot"] }],
        runAs: "nonroot",
      },
      entrypoint: ["/usr/bin/python3.12"],
      cmd: ["-c", "print('hello from Tailor')"],
      workDir: "/app",
      environment: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        PYTHONUNBUFFERED: "1",
        SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
      },
      annotations: {
        "org.opencontainers.image.source": "https://github.com/acme/images",
        "org.opencontainers.image.title": "python",
      },
      archs: ["aarch64", "x86_64"],
    });
    expect(ignoredFields).toEqual([]);
  });

  it("normalizes Go architecture names (even one YAML reads as a number) and applies defaults", () => {
    const { definition } = parseSourceImageYaml(testdata("alpine-minimal.yaml"));
    expect(definition.archs).toEqual(["armv7", "x86", "x86_64"]);
    expect(definition.cmd).toEqual(["/bin/sh", "-l"]);
    expect(definition.entrypoint).toEqual([]);
    expect(definition.devPackages).toEqual(["busybox", "apk-tools"]);
    expect(definition.accounts).toEqual({ users: [], groups: [], runAs: "" });
    expect(definition.keyring).toEqual([]);
  });

  it("tolerates apko fields it does not use, and lists them", () => {
    const { definition, ignoredFields } = parseSourceImageYaml(
      testdata("wolfi-with-apko-extras.yaml"),
    );
    expect(ignoredFields).toEqual([
      "contents.build_repositories",
      "options",
      "paths",
      "stop-signal",
      "vcs-url",
      "volumes",
    ]);
    expect(definition.entrypoint).toEqual(["/bin/sh", "-c", 'exec nginx -g "daemon off;"']);
    // A user without a gid gets the group of its uid's number, as in apko.
    expect(definition.accounts.users).toEqual([
      { username: "nginx", uid: 65532, gid: 65532, shell: "", homeDir: "" },
    ]);
    expect(definition.accounts.runAs).toBe("65532");
    expect(definition.devPackages).toEqual(["busybox", "apk-tools"]);
    expect(definition.archs).toEqual(["aarch64", "x86_64"]);
  });

  it("refuses service bundles, naming the fields", () => {
    expect(problemsOf(testdata("service-bundle.yaml"))).toEqual([
      {
        field: "entrypoint.type",
        message:
          '"service-bundle" is not supported: Tailor images run one process; use entrypoint.command',
      },
      {
        field: "entrypoint.services",
        message: "is not supported: Tailor images run one process; use entrypoint.command",
      },
    ]);
  });

  it("refuses include, which would need another file", () => {
    expect(problemsOf(testdata("include.yaml")).map((p) => p.field)).toEqual(["include"]);
  });

  it("reports every account problem at its path", () => {
    expect(problemsOf(testdata("bad-accounts.yaml"))).toEqual([
      { field: "accounts.users[1].uid", message: 'must be a whole number, not "1001"' },
      {
        field: "accounts.run-as",
        message: '"ghost" is neither a user of accounts.users nor a numeric uid',
      },
    ]);
  });

  it("an explicitly empty dev section means the -dev variant adds nothing", () => {
    const { definition } = parseSourceImageYaml(
      "contents: {packages: [busybox]}\ndev: {packages: []}\n",
    );
    expect(definition.devPackages).toEqual([]);
  });

  it("two texts differing only in comments, formatting and key order give equal definitions", () => {
    const a = parseSourceImageYaml(
      "contents:\n  packages: [a, b]\nenvironment: {X: '1', Y: '2'}\narchs: [x86_64, arm64]\n",
    );
    const b = parseSourceImageYaml(
      "# same\narchs:\n  - aarch64\n  - amd64\nenvironment:\n  Y: '2'\n  X: 1\ncontents:\n  packages:\n    - a\n    - b\n",
    );
    expect(JSON.stringify(b.definition)).toBe(JSON.stringify(a.definition));
  });
});

describe("parseSourceImageYaml refusals", () => {
  const cases: Array<[string, string, string, string]> = [
    ["not YAML", "contents: [", "yaml", ""],
    ["empty text", "", "yaml", "is empty"],
    ["a list at the top", "- a\n- b\n", "yaml", "must be a mapping, not a list"],
    ["duplicate keys", "contents: {packages: [a]}\ncontents: {packages: [b]}\n", "yaml", "unique"],
    ["no contents", "cmd: /bin/sh\n", "contents.packages", "is required"],
    [
      "no packages",
      "contents: {repositories: [https://x.example]}\n",
      "contents.packages",
      "is required",
    ],
    ["empty packages", "contents: {packages: []}\n", "contents.packages", "at least one package"],
    ["packages not a list", "contents: {packages: curl}\n", "contents.packages", "must be a list"],
    [
      "a bad atom",
      "contents: {packages: [curl, 'py>=']}\n",
      "contents.packages[1]",
      "not a valid apk atom",
    ],
    [
      "a package twice",
      "contents: {packages: [curl, 'curl>=8']}\n",
      "contents.packages[1]",
      'package "curl" is listed twice (also at contents.packages[0])',
    ],
    [
      "a mapping as a package",
      "contents: {packages: [{name: curl}]}\n",
      "contents.packages[0]",
      "must be a string, not a mapping",
    ],
    [
      "an empty package",
      "contents: {packages: [curl, ~]}\n",
      "contents.packages[1]",
      "must not be empty",
    ],
    [
      "a uid out of range",
      "contents: {packages: [a]}\naccounts: {users: [{username: a, uid: -1}]}\n",
      "accounts.users[0].uid",
      "between 0 and",
    ],
    [
      "a user without uid",
      "contents: {packages: [a]}\naccounts: {users: [{username: a}]}\n",
      "accounts.users[0].uid",
      "is required",
    ],
    [
      "a bad user name",
      "contents: {packages: [a]}\naccounts: {users: [{username: 'Bad:x', uid: 1}]}\n",
      "accounts.users[0].username",
      "not a valid account name",
    ],
    [
      "a relative home",
      "contents: {packages: [a]}\naccounts: {users: [{username: a, uid: 1, homedir: home}]}\n",
      "accounts.users[0].homedir",
      "absolute path",
    ],
    [
      "users twice by uid",
      "contents: {packages: [a]}\naccounts: {users: [{username: a, uid: 1}, {username: b, uid: 1}]}\n",
      "accounts.users[1].uid",
      'uid "1" is already used by accounts.users[0]',
    ],
    [
      "a group without gid",
      "contents: {packages: [a]}\naccounts: {groups: [{groupname: g}]}\n",
      "accounts.groups[0].gid",
      "is required",
    ],
    [
      "an unknown entrypoint field",
      "contents: {packages: [a]}\nentrypoint: {cmd: /bin/sh}\n",
      "entrypoint.cmd",
      "not a field of entrypoint",
    ],
    [
      "command and shell-fragment",
      "contents: {packages: [a]}\nentrypoint: {command: /bin/a, shell-fragment: b}\n",
      "entrypoint.shell-fragment",
      "cannot be combined with entrypoint.command",
    ],
    [
      "an unterminated quote",
      "contents: {packages: [a]}\nentrypoint: {command: 'sh -c \"x'}\n",
      "entrypoint.command",
      "unterminated",
    ],
    [
      "cmd as a list",
      "contents: {packages: [a]}\ncmd: [a, b]\n",
      "cmd",
      "must be a string, not a list",
    ],
    [
      "a relative work-dir",
      "contents: {packages: [a]}\nwork-dir: app\n",
      "work-dir",
      "absolute path",
    ],
    [
      "a bad variable name",
      "contents: {packages: [a]}\nenvironment: {MY-VAR: x}\n",
      "environment.MY-VAR",
      "not a valid variable name",
    ],
    [
      "a nested variable value",
      "contents: {packages: [a]}\nenvironment: {X: {y: z}}\n",
      "environment.X",
      "must be a string",
    ],
    [
      "annotations as a list",
      "contents: {packages: [a]}\nannotations: [a]\n",
      "annotations",
      "must be a mapping",
    ],
    [
      "an unknown arch",
      "contents: {packages: [a]}\narchs: [x86_64, sparc]\n",
      "archs[1]",
      '"sparc" is not an architecture Tailor builds',
    ],
    [
      "archs: all",
      "contents: {packages: [a]}\narchs: [all]\n",
      "archs[0]",
      "list the architectures instead",
    ],
    [
      "a bad dev package",
      "contents: {packages: [a]}\ndev: {packages: ['!']}\n",
      "dev.packages[0]",
      "not a valid apk atom",
    ],
  ];
  for (const [what, yaml, field, message] of cases) {
    it(`${what} → ${field === "" ? "(root)" : field}`, () => {
      const found = problemsOf(yaml);
      expect(found.length, JSON.stringify(found)).toBeGreaterThan(0);
      expect(found[0]?.field).toBe(field);
      expect(found[0]?.message).toContain(message);
    });
  }

  it("refuses a YAML over the size limit", () => {
    const big = `contents: {packages: [a]}\n# ${"x".repeat(MAX_SOURCE_IMAGE_YAML_BYTES)}\n`;
    expect(problemsOf(big)).toEqual([
      {
        field: "yaml",
        message: `is ${big.length} bytes; the limit is ${MAX_SOURCE_IMAGE_YAML_BYTES}`,
      },
    ]);
  });

  it("reports all problems at once, and the error message lists them", () => {
    const yaml = "contents: {packages: [a, a]}\narchs: [vax]\nwork-dir: rel\n";
    try {
      parseSourceImageYaml(yaml, 'source image "x"');
      expect.unreachable();
    } catch (error) {
      const invalid = error as InvalidFieldsError;
      expect(invalid.problems.map((p) => p.field)).toEqual([
        "contents.packages[1]",
        "work-dir",
        "archs[0]",
      ]);
      expect(invalid.field).toBe("contents.packages[1]");
      expect(invalid.message).toMatch(
        /^source image "x" is invalid \(3 problems\): contents\.packages\[1\]: /,
      );
    }
  });
});

describe("chooseMainPackage", () => {
  it("takes the first package that is not a conflict unless one is named", () => {
    expect(
      chooseMainPackage("py", ["!foo", "python-3.12>=3.12.1", "ca-certificates-bundle"], ""),
    ).toBe("python-3.12");
    expect(
      chooseMainPackage("py", ["python-3.12", "ca-certificates-bundle"], "ca-certificates-bundle"),
    ).toBe("ca-certificates-bundle");
  });

  it("refuses a main package the image does not contain", () => {
    expect(() => chooseMainPackage("py", ["python-3.12"], "nodejs")).toThrow(
      /main_package: "nodejs" is not one of contents.packages \(python-3.12\)/,
    );
  });
});

/** The testdata YAMLs: each parses, or is refused naming a field. */
describe("every testdata YAML parses or is refused with a precise field", () => {
  const expected: Record<string, string | undefined> = {
    "alpine-minimal.yaml": undefined,
    "bad-accounts.yaml": "accounts.users[1].uid",
    "include.yaml": "include",
    "python-wolfi.yaml": undefined,
    "service-bundle.yaml": "entrypoint.type",
    "wolfi-with-apko-extras.yaml": undefined,
  };
  const files = readdirSync(testdataDir).filter((f) => f.endsWith(".yaml"));
  it("has an expectation for each file", () => {
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });
  for (const file of files) {
    it(file, () => {
      const problems = problemsOf(testdata(file));
      expect(problems[0]?.field).toBe(expected[file]);
    });
  }
});
