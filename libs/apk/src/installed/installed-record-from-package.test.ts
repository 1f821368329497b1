import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { readPackage } from "../package/package-reader.js";
import { writePackage } from "../writer/package-writer.js";
import { formatInstalledRecord, parseInstalledDb } from "./installed-db.js";
import { installedRecordFromPackage } from "./installed-record-from-package.js";

describeWithFixtures("installed record from a real package", (fixtures) => {
  it("matches, byte for byte, what apk wrote for alpine-baselayout 3.2.0-r23 aarch64 in the 3.16.9 rootfs", async () => {
    const apk = "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk";
    const db = "docker-alpine/minirootfs-3.16.9-aarch64/lib/apk/db/installed";
    const pkg = await readPackage(new Uint8Array(readFileSync(join(fixtures, apk))), { file: apk });
    const real = parseInstalledDb(readFileSync(join(fixtures, db), "utf8"), { file: db }).find(
      (record) => record.name === pkg.pkginfo.pkgname,
    );
    // Same package in both places: same name, version, arch and identity.
    expect(real).toMatchObject({
      name: "alpine-baselayout",
      version: pkg.pkginfo.pkgver,
      arch: pkg.pkginfo.arch,
      checksum: pkg.checksum,
    });
    const ours = installedRecordFromPackage(pkg);
    expect(ours).toEqual(real);
    expect(formatInstalledRecord(ours)).toBe(formatInstalledRecord(real!));
  });
});

describe("installedRecordFromPackage", () => {
  it("records owners, modes, symlink and hard-link checksums, and implied directories", async () => {
    const bytes = await writePackage({
      pkginfo: {
        name: "demo",
        version: "1.0-r0",
        arch: "x86_64",
        depends: ["musl=~1.2"],
        replaces: ["old-demo"],
        replacesPriority: 5,
      },
      mtime: 1700000000,
      files: [
        {
          path: "/usr/bin/demo",
          type: "file",
          mode: 0o755,
          content: new TextEncoder().encode("#!/bin/sh\n"),
        },
        { path: "/usr/bin/demo-again", type: "hardlink", linkTarget: "/usr/bin/demo" },
        { path: "/usr/bin/dm", type: "symlink", linkTarget: "demo" },
        { path: "/var/lib/demo", type: "directory", mode: 0o750, uid: 100, gid: 101 },
        { path: "/etc/demo.conf", type: "file", mode: 0o640, gid: 42, content: new Uint8Array(3) },
      ],
    });
    const record = installedRecordFromPackage(await readPackage(bytes));
    expect(record.size).toBe(bytes.length);
    expect(record.depends).toEqual(["musl~1.2"]);
    expect(record.replaces).toEqual(["old-demo"]);
    expect(record.replacesPriority).toBe(5);
    expect(record.directories.map((d) => d.path)).toEqual([
      "etc",
      "usr",
      "usr/bin",
      "var",
      "var/lib",
      "var/lib/demo",
    ]);
    expect(record.directories.find((d) => d.path === "var/lib/demo")?.acl).toEqual({
      uid: 100,
      gid: 101,
      mode: 0o750,
    });
    const bin = record.directories.find((d) => d.path === "usr/bin")!;
    const [demo, again, dm] = bin.files;
    expect(demo?.acl).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    expect(again?.checksum).toBe(demo?.checksum);
    expect(dm?.acl.mode).toBe(0o777);
    expect(dm?.checksum).toMatch(/^Q1/);
    const text = formatInstalledRecord(record);
    expect(text).toContain("F:etc\nR:demo.conf\na:0:42:640\n");
    expect(text).toContain("F:var/lib/demo\nM:100:101:750\n");
    expect(parseInstalledDb(text)).toEqual([record]);
  });
});
