import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { AtomError, VersionError } from "../errors.js";
import type { Atom } from "./atom.js";
import {
  formatAtom,
  formatDependencies,
  formatProvide,
  parseAtom,
  parseDependencies,
  parseProvide,
  parseProvides,
} from "./atom.js";
import { isValidVersion } from "./version.js";

/** The AtomError `fn` throws (fails the test when it throws nothing or something else). */
function atomError(fn: () => unknown): AtomError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AtomError);
    return error as AtomError;
  }
  throw new Error("expected an AtomError");
}

describe("parseAtom", () => {
  it("parses a bare name as 'any version'", () => {
    expect(parseAtom("busybox")).toEqual({ name: "busybox", conflict: false });
  });

  it.each([
    ["zlib=1.3-r0", "=", "1.3-r0"],
    ["zlib<1.3", "<", "1.3"],
    ["zlib>1.3", ">", "1.3"],
    ["zlib<=1.3", "<=", "1.3"],
    ["zlib>=1.2.13-r1", ">=", "1.2.13-r1"],
    ["python3~3.12", "~", "3.12"],
    ["python3<~3.12", "<~", "3.12"],
    ["python3>~3.12", ">~", "3.12"],
  ] as const)("parses %s", (text, op, version) => {
    const atom = parseAtom(text);
    expect(atom).toEqual({ name: text.slice(0, text.indexOf(op)), conflict: false, op, version });
    expect(formatAtom(atom)).toBe(text);
  });

  it("reads other spellings of an operator as apk does and writes the canonical one", () => {
    const spellings: [string, string][] = [
      ["foo=~1.2", "foo~1.2"],
      ["foo~=1.2", "foo~1.2"],
      ["foo=<1.2", "foo<=1.2"],
      ["foo=>1.2", "foo>=1.2"],
      ["foo==1.2", "foo=1.2"],
      ["foo~<1.2", "foo<~1.2"],
    ];
    for (const [text, canonical] of spellings) expect(formatAtom(parseAtom(text))).toBe(canonical);
  });

  it("parses checksum pins without treating the checksum as a version", () => {
    const text = "busybox><Q1p78yvTLG094tHE1+dToJGbmYzQE=";
    const atom = parseAtom(text);
    expect(atom).toEqual({
      name: "busybox",
      conflict: false,
      op: "><",
      checksum: "Q1p78yvTLG094tHE1+dToJGbmYzQE=",
    });
    expect(formatAtom(atom)).toBe(text);
    expect(parseAtom("foo<>Q1abc").op).toBe("><");
  });

  it("parses conflicts, with and without a version", () => {
    expect(parseAtom("!openssl")).toEqual({ name: "openssl", conflict: true });
    expect(parseAtom("!openssl<3")).toEqual({
      name: "openssl",
      conflict: true,
      op: "<",
      version: "3",
    });
  });

  it("parses repository tags", () => {
    expect(parseAtom("go@edge")).toEqual({ name: "go", tag: "edge", conflict: false });
    const pinned = parseAtom("!go@testing>=1.22");
    expect(pinned).toEqual({
      name: "go",
      tag: "testing",
      conflict: true,
      op: ">=",
      version: "1.22",
    });
    expect(formatAtom(pinned)).toBe("!go@testing>=1.22");
  });

  it.each([
    "so:libc.musl-x86_64.so.1",
    "so:libstdc++.so.6",
    "cmd:busybox=1.36.1-r2",
    "cmd:[=1.36.1-r2",
    "pc:zlib=1.3",
    "pc:gtk+-3.0>=3.24",
    "/bin/sh",
    "py3.11:setuptools",
    "dbus:org.freedesktop.Secrets",
  ])("parses the prefixed or path name %s and writes it back unchanged", (text) => {
    expect(formatAtom(parseAtom(text))).toBe(text);
  });

  it("passes the caller's location into its errors", () => {
    const error = atomError(() =>
      parseAtom("foo>=", { file: ".PKGINFO", field: "depend", line: 7 }),
    );
    expect(error.message).toBe(
      '.PKGINFO, field depend, line 7: dependency "foo>=" has op ">=" but no version after it',
    );
    expect(error.location).toEqual({ file: ".PKGINFO", field: "depend", line: 7 });
  });

  it.each([
    ["", 'dependency "" is empty'],
    ["!", 'dependency "!" has no name'],
    [">=1.0", 'dependency ">=1.0" has no name'],
    ["foo>=", 'dependency "foo>=" has op ">=" but no version after it'],
    [
      "foo=1.0bc",
      'dependency "foo=1.0bc" has an invalid version: "1.0bc" a letter may only follow',
    ],
    ["foo~v2", 'dependency "foo~v2" has an invalid version: "v2" must start with a digit'],
    ["foo<>=1.0", 'dependency "foo<>=1.0" has op "<>=", which every version satisfies'],
    ["foo!=1.0", 'dependency "foo!=1.0" has "!" in its name, which apk does not allow'],
    ["!!foo", 'dependency "!!foo" has "!" in its name'],
    ["fo o", 'dependency "fo o" contains white space at offset 2'],
    ["foo\t", 'dependency "foo\\t" contains white space at offset 3'],
    ["föo", 'dependency "föo" has "ö" in its name'],
    ["foo@", 'dependency "foo@" has an empty repository tag after "@"'],
    ["@edge", 'dependency "@edge" has no name'],
    ["foo@ed*ge", 'dependency "foo@ed*ge" has "*" in its repository tag'],
  ])("rejects %j: %s", (text, message) => {
    expect(atomError(() => parseAtom(text)).message).toContain(message);
  });

  it("keeps the VersionError as the cause of an invalid version", () => {
    const error = atomError(() => parseAtom("foo=1.0_foo"));
    expect(error.cause).toBeInstanceOf(VersionError);
    expect((error.cause as VersionError).message).toMatch(/unknown suffix "_foo"/);
  });

  it("keeps an invalid version when asked, as apk does when loading metadata", () => {
    const atom = parseAtom("pc:jemalloc=5.3.0_", {}, { allowInvalidVersion: true });
    expect(atom).toEqual({ name: "pc:jemalloc", conflict: false, op: "=", version: "5.3.0_" });
    expect(isValidVersion(atom.version ?? "")).toBe(false);
  });
});

describe("formatAtom", () => {
  it("refuses inconsistent atoms", () => {
    const inconsistent: [Atom, string][] = [
      [{ name: "foo", conflict: false, op: ">=" }, 'dependency "foo" has op ">=" but no version'],
      [
        { name: "foo", conflict: false, version: "1" },
        'dependency "foo" has version "1" but no op',
      ],
      [{ name: "foo", conflict: false, op: "><" }, 'dependency "foo" has op "><" but no checksum'],
      [
        { name: "foo", conflict: false, op: "><", version: "1" },
        'dependency "foo" has op "><", which takes a checksum, not a version',
      ],
      [
        { name: "foo", conflict: false, op: "=", version: "1", checksum: "Q1x" },
        'dependency "foo" has op "=" and a checksum, which needs "><"',
      ],
      [
        { name: "foo", conflict: false, checksum: "Q1x" },
        'dependency "foo" has a checksum but no "><" op',
      ],
    ];
    for (const [atom, message] of inconsistent) {
      expect(atomError(() => formatAtom(atom)).message).toBe(message);
    }
  });
});

describe("parseDependencies", () => {
  it("splits at spaces and newlines like a D: line or a world file", () => {
    const atoms = parseDependencies("so:libc.musl-x86_64.so.1  !foo\nbar>=2 ");
    expect(atoms).toEqual([
      { name: "so:libc.musl-x86_64.so.1", conflict: false },
      { name: "foo", conflict: true },
      { name: "bar", conflict: false, op: ">=", version: "2" },
    ]);
    expect(formatDependencies(atoms)).toBe("so:libc.musl-x86_64.so.1 !foo bar>=2");
    expect(parseDependencies("")).toEqual([]);
  });

  it("rejects repository tags in package metadata unless asked to accept them", () => {
    expect(atomError(() => parseDependencies("busybox go@edge")).message).toBe(
      'dependency "go@edge" has repository tag "@edge", which only the world file may use',
    );
    expect(parseDependencies("busybox go@edge", { allowTags: true })[1]).toEqual({
      name: "go",
      tag: "edge",
      conflict: false,
    });
  });

  it("names the atom that does not parse, with the caller's location", () => {
    const error = atomError(() =>
      parseDependencies("musl>=1.2 zlib>= busybox", {
        location: { file: "APKINDEX", field: "D:" },
      }),
    );
    expect(error.message).toBe(
      'APKINDEX, field D:: dependency "zlib>=" has op ">=" but no version after it',
    );
  });
});

describe("provides", () => {
  it("parses versioned and unversioned provides", () => {
    expect(parseProvide("so:libc.musl-x86_64.so.1=1")).toEqual({
      name: "so:libc.musl-x86_64.so.1",
      version: "1",
    });
    expect(parseProvide("cmd:busybox=1.36.1-r2")).toEqual({
      name: "cmd:busybox",
      version: "1.36.1-r2",
    });
    expect(parseProvide("pc:zlib=1.3")).toEqual({ name: "pc:zlib", version: "1.3" });
    expect(parseProvide("/bin/sh")).toEqual({ name: "/bin/sh" });
  });

  it("formats provides back to their text", () => {
    for (const text of ["cmd:busybox=1.36.1-r2", "pc:zlib=1.3", "/bin/sh"]) {
      expect(formatProvide(parseProvide(text))).toBe(text);
    }
  });

  it("parses a p: line", () => {
    expect(parseProvides("cmd:strace-log-merge=5.14-r0 cmd:strace=5.14-r0")).toEqual([
      { name: "cmd:strace-log-merge", version: "5.14-r0" },
      { name: "cmd:strace", version: "5.14-r0" },
    ]);
  });

  it.each([
    ["!foo", 'provide "!foo" cannot be a conflict ("!")'],
    ["foo>=1", 'provide "foo>=1" must use "=", not ">="'],
    ["foo~1", 'provide "foo~1" must use "=", not "~"'],
    ["foo@edge=1", 'dependency "foo@edge=1" has repository tag "@edge"'],
    ["foo=1.x", 'dependency "foo=1.x" has an invalid version'],
  ])("rejects %j", (text, message) => {
    expect(atomError(() => parseProvide(text)).message).toContain(message);
  });
});

// Real Alpine and Wolfi indexes: every D:, i: and p: atom parses and is written
// back byte for byte. A few carry versions apk itself calls invalid; apk keeps
// them as broken atoms, and so do we when asked.
describeWithFixtures("atoms of real APKINDEX files", (fixturesDir) => {
  const indexes = [
    "apko/apk/testdata/alpine-316/APKINDEX.tar.gz",
    "apko/apk/testdata/alpine-317/APKINDEX.tar.gz",
    "renovate/lib/modules/datasource/apk/__fixtures__/APKINDEX.tar.gz",
    "wolfictl/pkg/dag/testdata/packages/x86_64/APKINDEX.tar.gz",
  ];

  /** Every `D:`, `i:` and `p:` line of an index (the tar framing never starts a line with them). */
  function atomLines(file: string): { field: string; value: string }[] {
    const text = gunzipSync(readFileSync(join(fixturesDir, file))).toString("utf8");
    const lines: { field: string; value: string }[] = [];
    for (const line of text.split("\n")) {
      const match = /^([Dip]):(.*)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        lines.push({ field: match[1], value: match[2] });
      }
    }
    return lines;
  }

  it.each(indexes)("round-trips every atom of %s", (file) => {
    const lines = atomLines(file);
    expect(lines.length).toBeGreaterThan(10);
    for (const { field, value } of lines) {
      const location = { file, field: `${field}:` };
      if (field === "p") {
        const provides = parseProvides(value, { location, allowInvalidVersion: true });
        expect(provides.map(formatProvide).join(" ")).toBe(value);
      } else {
        const atoms = parseDependencies(value, { location, allowInvalidVersion: true });
        expect(formatDependencies(atoms)).toBe(value);
      }
    }
  });

  it("rejects, when strict, exactly the atoms whose version apk calls invalid", () => {
    const rejected: string[] = [];
    for (const file of indexes) {
      for (const { value } of atomLines(file)) {
        for (const text of value.split(" ").filter((t) => t !== "")) {
          try {
            parseAtom(text);
          } catch (error) {
            expect((error as Error).message).toContain("has an invalid version");
            rejected.push(text);
          }
        }
      }
    }
    expect(rejected).toContain("pc:jemalloc=5.3.0_");
    expect(rejected).toContain("pc:librtmp=v2.4");
    for (const text of rejected) {
      const version = parseAtom(text, {}, { allowInvalidVersion: true }).version;
      expect(isValidVersion(version ?? ""), text).toBe(false);
    }
  });

  it("finds the fuzzy operator in the newer Alpine index", () => {
    const ops = new Set<string>();
    for (const { field, value } of atomLines(indexes[2] ?? "")) {
      if (field === "p") continue;
      for (const atom of parseDependencies(value, { allowInvalidVersion: true })) {
        if (atom.op !== undefined) ops.add(atom.op);
      }
    }
    expect([...ops].sort()).toEqual(["<", "=", ">", ">=", "~"]);
  });
});
