// A table test over PROVENANCE.md's classes: every REAL-* package and index
// parses and verifies with the shipped Alpine and Wolfi keys, and the doctored
// and malformed ones are rejected with typed, precise errors.
import fs from "node:fs";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import type { ApkPackage, IndexEntry } from "../src/index.js";
import {
  ApkError,
  BadSignatureError,
  IntegrityError,
  parseApkIndexText,
  readApkIndexArchive,
  readPackage,
  SignatureError,
  UntrustedSignatureError,
} from "../src/index.js";
import { distributionKeyring, fixture, fixtureBytes, provenanceRows } from "./fixtures.js";

const isPackage = (file: string) => file.endsWith(".apk");
const isIndexArchive = (file: string) => /APKINDEX\.tar\.gz$|apkindex_data\.gz$/.test(file);

describeWithFixtures("real fixtures by PROVENANCE class", () => {
  const rows = provenanceRows();
  const keyring = distributionKeyring();
  const real = rows.filter((r) => r.cls === "REAL-ALPINE" || r.cls === "REAL-WOLFI");
  const realPackages = real.filter((r) => isPackage(r.file));
  const realIndexes = real.filter((r) => isIndexArchive(r.file));

  it("finds the real packages and indexes PROVENANCE.md lists", () => {
    expect(realPackages.length).toBeGreaterThanOrEqual(9);
    expect(realIndexes.length).toBeGreaterThanOrEqual(5);
  });

  const readIndexes = new Map<string, IndexEntry[]>();
  describe.each(realIndexes)("index $file ($cls)", ({ file, what }) => {
    it("parses, verifies with the distribution keys and has the documented entry count", async () => {
      const unsigned = what.includes("UNSIGNED");
      const index = await readApkIndexArchive(fixtureBytes(file), {
        file,
        keyring,
        requireSignature: !unsigned,
      });
      const count = Number(/APKINDEX: (\d+) packages/.exec(what)?.[1]);
      expect(index.entries).toHaveLength(count);
      if (!unsigned) expect(index.signatures.map((s) => s.verdict)).toContain("ok");
      readIndexes.set(file, index.entries);
      for (const entry of index.entries.slice(0, 50)) {
        expect(entry.checksum).toMatch(/^Q1[A-Za-z0-9+/]{27}=$/);
        expect(entry.name).not.toBe("");
      }
    });
  });

  it("reads the plain-text Alpine 3.23 index", () => {
    const text = fs.readFileSync(fixture("rusty_box/APKINDEX"), "utf8");
    const index = parseApkIndexText(text, { file: "rusty_box/APKINDEX" });
    expect(index.entries).toHaveLength(102);
    expect(index.skipped).toEqual([]);
  });

  it("refuses an unsigned index when a signature is required", async () => {
    await expect(
      readApkIndexArchive(fixtureBytes("rusty_box/apkindex_data.gz"), {
        file: "apkindex_data.gz",
        keyring,
        requireSignature: true,
      }),
    ).rejects.toBeInstanceOf(UntrustedSignatureError);
  });

  const readPackages = new Map<string, ApkPackage>();
  describe.each(realPackages)("package $file ($cls)", ({ file }) => {
    it("parses, its signature verifies with the distribution keys and its datahash matches", async () => {
      const pkg = await readPackage(fixtureBytes(file), { file, keyring, requireSignature: true });
      expect(pkg.signatures.some((s) => s.verdict === "ok")).toBe(true);
      expect(pkg.datahash.ok).toBe(true);
      expect(pkg.checksum).toMatch(/^Q1[A-Za-z0-9+/]{27}=$/);
      expect(pkg.segments.data.offset).toBe(
        pkg.segments.control.offset + pkg.segments.control.length,
      );
      readPackages.set(file, pkg);
    });
  });

  it("gives each real package the C: checksum its real index lists", async () => {
    let matched = 0;
    for (const { file } of realPackages) {
      const pkg = readPackages.get(file) ?? (await readPackage(fixtureBytes(file), { file }));
      for (const entries of readIndexes.values()) {
        const entry = entries.find(
          (e) =>
            e.name === pkg.pkginfo.pkgname &&
            e.version === pkg.pkginfo.pkgver &&
            e.arch === pkg.pkginfo.arch,
        );
        if (entry === undefined) continue;
        expect(entry.checksum, file).toBe(pkg.checksum);
        expect(Math.abs(entry.size - fs.statSync(fixture(file)).size), file).toBeLessThan(8);
        matched++;
      }
    }
    // strace-5.17-r0 and curl-7.83.1-r1 are in the Alpine 3.16 index.
    expect(matched).toBeGreaterThanOrEqual(1);
  });

  describe.each(rows.filter((r) => r.cls === "WOLFI-DOCTORED"))("doctored $file", ({ file }) => {
    it("is rejected: its signature or datahash no longer matches", async () => {
      const error = await readPackage(fixtureBytes(file), { file, keyring }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApkError);
      expect(error instanceof BadSignatureError || error instanceof IntegrityError).toBe(true);
      expect((error as ApkError).message).toContain(file);
    });
    it("still fails on its datahash when signatures are not checked", async () => {
      const error = await readPackage(fixtureBytes(file), { file }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
    });
  });

  describe.each(rows.filter((r) => r.cls === "MALFORMED"))("malformed $file", ({ file }) => {
    it("gives a typed error naming the file", async () => {
      const error = await readApkIndexArchive(fixtureBytes(file), { file, keyring }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApkError);
      expect((error as ApkError).message).toContain(file);
    });
  });

  describe.each(rows.filter((r) => r.cls === "WOLFI-UNSIGNED" && isPackage(r.file)))(
    "unsigned $file",
    ({ file }) => {
      it("reads without a keyring and is untrusted with one", async () => {
        const pkg = await readPackage(fixtureBytes(file), { file });
        expect(pkg.signatures).toEqual([]);
        const error = await readPackage(fixtureBytes(file), { file, keyring }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SignatureError);
        expect((error as SignatureError).verdict).toBe("untrusted");
      });
    },
  );
});
