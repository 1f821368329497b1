import { generateKeyPairSync, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { SignatureError } from "../errors.js";
import type { ApkSigner } from "./signer.js";
import { createSignatureMember, signatureEntryName, signBytes } from "./signer.js";

const keys2048 = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signer = (algorithm: "sha1" | "sha256", keyName = "builder-1.rsa.pub"): ApkSigner => ({
  keyName,
  algorithm,
  privateKeyPem: keys2048.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
});
const controlMember = new Uint8Array(Buffer.from("pretend this is a compressed control stream"));

describe("signatureEntryName", () => {
  it("names SHA-1 signatures .SIGN.RSA.* and SHA-256 ones .SIGN.RSA256.*", () => {
    expect(signatureEntryName("k.rsa.pub", "sha1")).toBe(".SIGN.RSA.k.rsa.pub");
    expect(signatureEntryName("k.rsa.pub", "sha256")).toBe(".SIGN.RSA256.k.rsa.pub");
  });

  it("refuses key names that are not file names", () => {
    expect(() => signatureEntryName("../k.rsa.pub", "sha1")).toThrow(SignatureError);
    expect(() => signatureEntryName("", "sha1")).toThrow(SignatureError);
  });
});

describe("signBytes", () => {
  it.each(["sha1", "sha256"] as const)(
    "makes a PKCS#1 v1.5 %s signature the public key accepts",
    (algorithm) => {
      const signature = signBytes(controlMember, signer(algorithm));
      expect(signature.length).toBe(256);
      expect(verify(algorithm, controlMember, keys2048.publicKey, signature)).toBe(true);
      expect(verify(algorithm, new Uint8Array([1, 2, 3]), keys2048.publicKey, signature)).toBe(
        false,
      );
    },
  );

  it("accepts PKCS#8 PEM keys too", () => {
    const pkcs8 = keys2048.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const signature = signBytes(controlMember, { ...signer("sha256"), privateKeyPem: pkcs8 });
    expect(verify("sha256", controlMember, keys2048.publicKey, signature)).toBe(true);
  });

  it("refuses keys that are not RSA private keys, with a typed error", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const ecPem = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => signBytes(controlMember, { ...signer("sha1"), privateKeyPem: ecPem })).toThrow(
      SignatureError,
    );
    expect(() => signBytes(controlMember, { ...signer("sha1"), privateKeyPem: "nope" })).toThrow(
      SignatureError,
    );
  });
});

describe("createSignatureMember", () => {
  it("is one gzip member holding a cut tar with the .SIGN entry and its signature", () => {
    const member = createSignatureMember(controlMember, signer("sha256"), { mtime: 1700000000 });
    const tar = gunzipSync(member);
    expect(tar.length).toBe(512 + 512);
    const name = tar.subarray(0, 100).toString("latin1").replace(/\0+$/, "");
    expect(name).toBe(".SIGN.RSA256.builder-1.rsa.pub");
    expect(tar.subarray(257, 265).toString("latin1")).toBe("ustar  \0");
    expect(verify("sha256", controlMember, keys2048.publicKey, tar.subarray(512, 768))).toBe(true);
  });

  it("holds one entry per signer, in the given order", () => {
    const member = createSignatureMember(controlMember, [
      signer("sha256", "a.rsa.pub"),
      signer("sha1", "b.rsa.pub"),
    ]);
    const tar = gunzipSync(member);
    expect(tar.length).toBe(2 * 1024);
    expect(tar.subarray(0, 30).toString("latin1")).toContain(".SIGN.RSA256.a.rsa.pub");
    expect(tar.subarray(1024, 1054).toString("latin1")).toContain(".SIGN.RSA.b.rsa.pub");
  });

  it("is deterministic for the same key, bytes and time", () => {
    const a = createSignatureMember(controlMember, signer("sha1"), { mtime: 5 });
    const b = createSignatureMember(controlMember, signer("sha1"), { mtime: 5 });
    expect(Buffer.compare(a, b)).toBe(0);
    expect(a.subarray(0, 10)).toEqual(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]));
  });
});

describeWithFixtures("createSignatureMember against abuild-sign", (fixtures) => {
  it("writes the same tar header abuild-sign wrote for a 4096-bit key", () => {
    const apk = readFileSync(
      join(fixtures, "apko/apk/testdata/alpine-316/alpine-baselayout-3.2.0-r23.apk"),
    );
    const realTar = inflateRawSync(apk.subarray(10));
    const keys4096 = generateKeyPairSync("rsa", { modulusLength: 4096 });
    const member = createSignatureMember(
      controlMember,
      {
        keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub",
        algorithm: "sha1",
        privateKeyPem: keys4096.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      },
      { mtime: 1662926906 },
    );
    const ours = gunzipSync(member);
    expect(ours.length).toBe(realTar.length);
    expect(Buffer.compare(ours.subarray(0, 512), realTar.subarray(0, 512))).toBe(0);
  });
});
