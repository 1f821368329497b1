import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { FieldError } from "../errors.js";
import { formatApkIndexText, parseApkIndexText } from "./apk-index-text.js";
import type { IndexEntry } from "./index-entry.js";

const busybox = [
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
  "m:Sören Tempel <soeren+alpine@soeren-tempel.net>",
  "t:1699383189",
  "c:d1b6f274f29076967826e0ecf6ebcaa5d360272f",
  "k:100",
  "D:busybox=1.36.1-r15",
  "p:/bin/sh cmd:sh=1.36.1-r15",
  "",
  "",
].join("\n");

describe("parseApkIndexText", () => {
  it("reads every field apk knows", () => {
    const { entries, skipped } = parseApkIndexText(busybox);
    expect(skipped).toEqual([]);
    expect(entries).toEqual([
      {
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
        maintainer: "Sören Tempel <soeren+alpine@soeren-tempel.net>",
        buildTime: 1699383189,
        commit: "d1b6f274f29076967826e0ecf6ebcaa5d360272f",
        providerPriority: 100,
        depends: ["busybox=1.36.1-r15"],
        provides: ["/bin/sh", "cmd:sh=1.36.1-r15"],
        installIf: [],
      } satisfies IndexEntry,
    ]);
  });

  it("skips a package with an unknown upper-case field, naming it and the line, and keeps the rest", () => {
    const text = `${busybox.replace("k:100\n", "k:100\nX:future\n")}C:Q1ZX+on7zBgcokTctj4tLSmx7q5O4=\nP:zsh\nV:5.9-r0\n\n`;
    const { entries, skipped } = parseApkIndexText(text, { file: "APKINDEX" });
    expect(entries.map((entry) => entry.name)).toEqual(["zsh"]);
    expect(skipped).toEqual([
      { line: 15, reason: expect.stringContaining("busybox-binsh-1.36.1-r15: unknown field X:") },
    ]);
    expect(skipped[0]?.reason).toContain("APKINDEX");
  });

  it("ignores unknown lower-case fields and installed-database letters, as apk does", () => {
    const text = busybox.replace(
      "k:100\n",
      "k:100\ny:whatever\nF:etc\nR:motd\nZ:Q1XmduVVNURHQ27TvYp1Lr5TMtFcA=\nr:foo\n",
    );
    const { entries, skipped } = parseApkIndexText(text);
    expect(skipped).toEqual([]);
    expect(entries[0]?.name).toBe("busybox-binsh");
  });

  it("lets a repeated field win as apk does: the last value counts, dependency lines add up", () => {
    const text = busybox
      .replace("V:1.36.1-r15\n", "V:1.0-r0\nV:1.36.1-r15\n")
      .replace("D:busybox=1.36.1-r15\n", "D:busybox=1.36.1-r15\nD:musl\n");
    const [entry] = parseApkIndexText(text).entries;
    expect(entry?.version).toBe("1.36.1-r15");
    expect(entry?.depends).toEqual(["busybox=1.36.1-r15", "musl"]);
  });

  it.each([
    ["no C:", (t: string) => t.replace(/^C:.*\n/m, ""), /no C: checksum/],
    ["no V:", (t: string) => t.replace(/^V:.*\n/m, ""), /no V:/],
    ["a bad S:", (t: string) => t.replace("S:1543", "S:big"), /S: "big" is not a number/],
    ["a bad C:", (t: string) => t.replace(/^C:.*$/m, "C:nope"), /not a package checksum/],
    ["a line without a colon", (t: string) => t.replace("k:100", "garbage"), /not "X:value"/],
  ])("skips a record with %s", (_what, edit, reason) => {
    const { entries, skipped } = parseApkIndexText(edit(busybox));
    expect(entries).toEqual([]);
    expect(skipped[0]?.reason).toMatch(reason);
  });
});

describe("formatApkIndexText", () => {
  it("writes apk-tools' field order, byte for byte", () => {
    expect(formatApkIndexText(parseApkIndexText(busybox).entries)).toBe(busybox);
  });

  it("always writes T:, U:, L: and leaves empty or zero optional fields out", () => {
    const entry: IndexEntry = {
      checksum: "Q1pcfTfDNEbNKQc2s1tia7da05M8Q=",
      name: "meta",
      version: "1-r0",
      size: 10,
      installedSize: 0,
      description: "",
      url: "",
      license: "",
      buildTime: 0,
      depends: [],
      provides: [],
      installIf: [],
    };
    expect(formatApkIndexText([entry])).toBe(
      "C:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=\nP:meta\nV:1-r0\nS:10\nI:0\nT:\nU:\nL:\n\n",
    );
  });

  it("refuses values that would break the format", () => {
    const [entry] = parseApkIndexText(busybox).entries;
    expect(() => formatApkIndexText([{ ...entry!, description: "two\nlines" }])).toThrow(
      FieldError,
    );
    expect(() => formatApkIndexText([{ ...entry!, depends: ["a b"] }])).toThrow(FieldError);
    expect(() => formatApkIndexText([{ ...entry!, size: -1 }])).toThrow(FieldError);
  });
});

describeWithFixtures("APKINDEX text, real files", (fixtures) => {
  const read = (file: string) => readFileSync(join(fixtures, file), "utf8");

  it("reads the Alpine 3.23 install-media index (102 packages) and writes it back byte for byte", () => {
    const text = read("rusty_box/APKINDEX");
    const { entries, skipped } = parseApkIndexText(text, { file: "rusty_box/APKINDEX" });
    expect(skipped).toEqual([]);
    expect(entries).toHaveLength(102);
    expect(formatApkIndexText(entries)).toBe(text);
  });

  it("reads the apk-tools solver test repositories", () => {
    const text = read("apk-tools/test/solver/installif1.repo");
    const { entries, skipped } = parseApkIndexText(text);
    expect(skipped).toEqual([]);
    expect(entries.length).toBe(10);
    expect(entries.some((entry) => entry.installIf.length > 0)).toBe(true);
  });

  it("skips wolfictl's checksum-less cycle index, saying why", () => {
    const { entries, skipped } = parseApkIndexText(
      read("wolfictl/pkg/dag/testdata/cycle/APKINDEX"),
    );
    expect(entries).toEqual([]);
    expect(skipped).toHaveLength(3);
    expect(skipped[0]?.reason).toMatch(/no C: checksum/);
  });

  it("reads apko's installed-database-style APKINDEX, ignoring its F:/R:/Z: lines", () => {
    const { entries, skipped } = parseApkIndexText(
      read("apko/cli/testdata/base_image/metadata/x86_64/APKINDEX"),
    );
    expect(skipped).toEqual([]);
    expect(entries).toHaveLength(3);
  });
});
