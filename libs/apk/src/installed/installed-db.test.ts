import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { ApkError, FieldError } from "../errors.js";
import type { InstalledRecord } from "./installed-db.js";
import { formatInstalledDb, parseInstalledDb } from "./installed-db.js";

/** Databases exactly as apk-tools wrote them (Alpine rootfs captures). */
const canonicalDbs = [
  "docker-alpine/minirootfs-3.16.9-aarch64/lib/apk/db/installed",
  "docker-alpine/minirootfs-3.16.9-x86_64/lib/apk/db/installed",
  "docker-alpine/minirootfs-edge-20240923-x86_64/lib/apk/db/installed",
  "apko/apk/testdata/root/usr/lib/apk/db/installed",
  "syft/alpine-testdata/multiple-2/lib/apk/db/installed",
];

/** apk-tools output that syft cut down to one record, dropping the final blank line. */
const trimmedDbs = ["syft/alpine-testdata/base", "syft/alpine-testdata/single"];

/** Databases apko wrote (Wolfi): own field order, `i:[]`, `a:0:0:0777`. */
const apkoDbs = [
  "apko/apk/testdata/installed/wolfi-base",
  "apko/apk/testdata/installed/redis-operator-compat",
  "apko/apk/testdata/installed/bad-top-level-perms",
];

describeWithFixtures("installed database, real files", (fixtures) => {
  const read = (file: string) => readFileSync(join(fixtures, file), "utf8");

  it.each(canonicalDbs)("%s: reads and writes back byte for byte", (file) => {
    const text = read(file);
    const records = parseInstalledDb(text, { file });
    expect(records.length).toBeGreaterThan(0);
    expect(formatInstalledDb(records)).toBe(text);
  });

  it.each(trimmedDbs)("%s: reads, and writes back with the final blank line restored", (file) => {
    const text = read(file);
    expect(formatInstalledDb(parseInstalledDb(text, { file }))).toBe(`${text.trimEnd()}\n\n`);
  });

  it.each(apkoDbs)("%s: reads, and what it writes reads back the same", (file) => {
    const records = parseInstalledDb(read(file), { file });
    expect(records.length).toBe(read(file).match(/^P:/gm)?.length);
    expect(parseInstalledDb(formatInstalledDb(records))).toEqual(records);
  });

  it("gives the Alpine 3.16.9 rootfs its 14 packages, owners and modes", () => {
    const file = "docker-alpine/minirootfs-3.16.9-aarch64/lib/apk/db/installed";
    const records = parseInstalledDb(read(file), { file });
    expect(records).toHaveLength(14);
    const baselayout = records.find((r) => r.name === "alpine-baselayout")!;
    expect(baselayout).toMatchObject({
      version: "3.2.0-r23",
      arch: "aarch64",
      size: 11012,
      installedSize: 339968,
      depends: ["alpine-baselayout-data=3.2.0-r23", "/bin/sh", "so:libc.musl-aarch64.so.1"],
      provides: ["cmd:mkmntdirs=3.2.0-r23"],
    });
    const tmp = baselayout.directories.find((d) => d.path === "tmp");
    expect(tmp?.acl).toEqual({ uid: 0, gid: 0, mode: 0o1777 });
    const crontabs = baselayout.directories.find((d) => d.path === "etc/crontabs");
    expect(crontabs?.files).toEqual([
      {
        name: "root",
        acl: { uid: 0, gid: 0, mode: 0o600 },
        checksum: "Q1vfk1apUWI4yLJGhhNRd0kJixfvY=",
      },
    ]);
    const data = records.find((r) => r.name === "alpine-baselayout-data")!;
    expect(data.replaces).toEqual(["alpine-baselayout"]);
  });

  it("reads apko's Wolfi quirks: any field order, [] lists, 0-prefixed modes, a top-level F:", () => {
    const wolfi = parseInstalledDb(read(apkoDbs[0]!));
    const baselayout = wolfi.find((r) => r.name === "wolfi-baselayout")!;
    expect(baselayout.installIf).toEqual([]);
    expect(baselayout.checksum).toBe("Q15GKR2cusJFuJW5jYQBxRRQK9xTs=");
    const mtab = baselayout.directories
      .find((d) => d.path === "etc")
      ?.files.find((f) => f.name === "mtab");
    expect(mtab?.acl.mode).toBe(0o777);

    const [operator] = parseInstalledDb(read(apkoDbs[2]!));
    expect(operator?.directories[0]).toMatchObject({ path: "", acl: { mode: 0o711 } });
  });

  it("rejects syft's corrupt database with a typed error naming file and line", () => {
    const file = "syft/alpine-testdata/corrupt/lib/apk/db/installed";
    const error = (() => {
      try {
        parseInstalledDb(read(file), { file });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FieldError);
    expect((error as FieldError).location).toMatchObject({ file, line: 1 });
    expect((error as FieldError).message).toContain(file);
  });

  it.each([
    "syft/alpine-testdata/multiple-1/lib/apk/db/installed",
    "syft/alpine-testdata/extra-file-attributes",
  ])("%s: hand-trimmed without C:, refused as apk-tools 3 refuses it", (file) => {
    expect(() => parseInstalledDb(read(file), { file })).toThrow(/no C: checksum/);
  });

  it("reads extended-attribute digests on a: lines once the record has its C:", () => {
    const text = `C:Q1M0C9qfC/+kdRiOodeihG2GMRtkE=\n${read("syft/alpine-testdata/extra-file-attributes")}`;
    const [jre] = parseInstalledDb(text);
    const bin = jre?.directories.find((d) => d.path.endsWith("/bin"));
    expect(bin?.files[0]).toEqual({
      name: "policytool",
      acl: { uid: 0, gid: 0, mode: 0o755, xattrChecksum: "Q1JaDEHQHBbizhEzoWK1YxuraNU/4=" },
      checksum: "Q1M0C9qfC/+kdRiOodeihG2GMRtkE=",
    });
    expect(formatInstalledDb(parseInstalledDb(text))).toContain(
      "a:0:0:755:Q1JaDEHQHBbizhEzoWK1YxuraNU/4=\n",
    );
  });

  it("gives a result or a typed error for damaged databases, never another exception", () => {
    const text = read(canonicalDbs[0]!);
    let state = 12345;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let i = 0; i < 300; i++) {
      const chars = [...text];
      for (let n = 0; n < 1 + Math.floor(next() * 5); n++) {
        const at = Math.floor(next() * chars.length);
        chars[at] = ["\n", ":", "Z", "a", "M", "9", "", "x"][Math.floor(next() * 8)] ?? "";
      }
      try {
        parseInstalledDb(chars.join(""));
      } catch (error) {
        expect(error).toBeInstanceOf(ApkError);
      }
    }
  });

  it("reads syft's empty-deps-and-provides (empty D:, p:, i:[])", () => {
    const [record] = parseInstalledDb(read("syft/alpine-testdata/empty-deps-and-provides"));
    expect(record).toMatchObject({ depends: [], provides: [], installIf: [] });
  });
});

describe("parseInstalledDb / formatInstalledDb", () => {
  const record: InstalledRecord = {
    checksum: "Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
    name: "busybox-binsh",
    version: "1.36.1-r15",
    arch: "x86_64",
    size: 1543,
    installedSize: 8192,
    description: "busybox ash /bin/sh",
    url: "https://busybox.net/",
    license: "GPL-2.0-only",
    origin: "busybox",
    buildTime: 1699383189,
    providerPriority: 100,
    depends: ["busybox=1.36.1-r15"],
    provides: ["/bin/sh", "cmd:sh=1.36.1-r15"],
    installIf: [],
    replaces: ["busybox-initscripts"],
    replacesPriority: 3,
    repositoryTag: "edge",
    flags: "s",
    tags: [],
    directories: [
      {
        path: "bin",
        acl: { uid: 0, gid: 0, mode: 0o755 },
        files: [
          {
            name: "sh",
            acl: { uid: 0, gid: 0, mode: 0o777 },
            checksum: "Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
          },
        ],
      },
      { path: "var/empty", acl: { uid: 0, gid: 0, mode: 0o555 }, files: [] },
    ],
  };

  it("writes apk-tools' order and leaves default owners out", () => {
    expect(formatInstalledDb([record])).toBe(
      [
        "C:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
        "P:busybox-binsh",
        "V:1.36.1-r15",
        "A:x86_64",
        "S:1543",
        "I:8192",
        "T:busybox ash /bin/sh",
        "U:https://busybox.net/",
        "L:GPL-2.0-only",
        "o:busybox",
        "t:1699383189",
        "k:100",
        "D:busybox=1.36.1-r15",
        "p:/bin/sh cmd:sh=1.36.1-r15",
        "r:busybox-initscripts",
        "q:3",
        "s:edge",
        "f:s",
        "F:bin",
        "R:sh",
        "a:0:0:777",
        "Z:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
        "F:var/empty",
        "M:0:0:555",
        "",
        "",
      ].join("\n"),
    );
    expect(parseInstalledDb(formatInstalledDb([record, record]))).toEqual([record, record]);
  });

  it.each([
    ["an unknown field", "X:1\n", 4],
    ["an unknown lower-case field", "y:1\n", 4],
    ["R: before F:", "R:foo\n", 4],
    ["a: before R:", "F:etc\na:0:0:644\n", 5],
    ["a bad mode", "F:etc\nM:0:0:9x\n", 5],
    ["an unknown flag", "f:z\n", 4],
    ["a line without a colon", "garbage\n", 4],
  ])("refuses %s with a FieldError naming the line", (_what, tail, line) => {
    const text = `C:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=\nP:a\nV:1-r0\n${tail}\n`;
    try {
      parseInstalledDb(text, { file: "installed" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApkError);
      expect((error as ApkError).location.line).toBe(line);
      expect((error as ApkError).message).toContain("installed");
    }
  });
});
