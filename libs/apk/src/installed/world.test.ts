import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { AtomError } from "../errors.js";
import { formatWorld, parseWorld } from "./world.js";

describeWithFixtures("world file, real", (fixtures) => {
  it("reads the Alpine minirootfs world and writes it back byte for byte", () => {
    const file = "docker-alpine/minirootfs-3.16.9-x86_64/etc/apk/world";
    const text = readFileSync(join(fixtures, file), "utf8");
    const atoms = parseWorld(text, { file });
    expect(atoms.map((atom) => atom.name)).toEqual([
      "alpine-baselayout",
      "alpine-keys",
      "apk-tools",
      "busybox",
      "libc-utils",
    ]);
    expect(formatWorld(atoms)).toBe(text);
  });
});

describe("world file", () => {
  it("sorts by package name, keeps operators, tags and conflicts, drops duplicates", () => {
    const text = formatWorld([
      "zlib>=1.3",
      "!foo",
      "busybox",
      "foo-bar@edge",
      "busybox",
      "so:libc.musl-x86_64.so.1",
    ]);
    expect(text).toBe("busybox\n!foo\nfoo-bar@edge\nso:libc.musl-x86_64.so.1\nzlib>=1.3\n");
    expect(formatWorld(parseWorld(text))).toBe(text);
  });

  it("writes an empty world as a lone newline, as apk does", () => {
    expect(formatWorld([])).toBe("\n");
    expect(parseWorld("\n")).toEqual([]);
  });

  it("names the file and line of an atom that does not parse", () => {
    expect(() => parseWorld("busybox\nfoo>=\n", { file: "world" })).toThrow(AtomError);
    try {
      parseWorld("busybox\nfoo>=\n", { file: "world" });
    } catch (error) {
      expect((error as AtomError).location).toMatchObject({ file: "world", line: 2 });
    }
  });
});
