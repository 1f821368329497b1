import { generateKeyPairSync, sign } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describeWithFixtures } from "@tailor/testing";
import { describe, expect, it } from "vitest";
import { generateTestKey } from "../../test/synthetic-archives.js";
import { SignatureError } from "../errors.js";
import { readGzipMembers } from "../gzip/gzip-members.js";
import { readTarGzip } from "../tar/tar-reader.js";
import {
  createKeyring,
  createSignatureVerifier,
  parseSignatureEntryName,
  verifySignature,
} from "./keyring.js";

const signed = new TextEncoder().encode("the compressed control member");

describe("verifySignature", () => {
  const key = generateTestKey("builder-1234abcd.rsa.pub");
  const keyring = createKeyring([{ name: key.name, pem: key.publicPem }]);

  it.each([
    ["RSA", "sha1"],
    ["RSA256", "sha256"],
    ["RSA512", "sha512"],
  ] as const)("checks .SIGN.%s.* signatures (PKCS#1 v1.5 over %s)", (type, digest) => {
    const signature = sign(digest, signed, key.privateKey);
    const entry = `.SIGN.${type}.${key.name}`;
    expect(verifySignature(keyring, entry, signature, signed)).toBe("ok");
    // Fed in pieces, as the package reader does while streaming.
    expect(
      verifySignature(keyring, entry, signature, [signed.subarray(0, 5), signed.subarray(5)]),
    ).toBe("ok");
    const tampered = signed.slice();
    tampered[3] = (tampered[3] ?? 0) ^ 1;
    expect(verifySignature(keyring, entry, signature, tampered)).toBe("bad");
  });

  it("says bad for a signature with the wrong digest or a garbled signature", () => {
    const sha256Signature = sign("sha256", signed, key.privateKey);
    expect(verifySignature(keyring, `.SIGN.RSA.${key.name}`, sha256Signature, signed)).toBe("bad");
    expect(verifySignature(keyring, `.SIGN.RSA.${key.name}`, new Uint8Array(7), signed)).toBe(
      "bad",
    );
  });

  it("says untrusted when the keyring has no key of that name", () => {
    const other = generateTestKey("other.rsa.pub");
    const signature = sign("sha1", signed, other.privateKey);
    expect(verifySignature(keyring, ".SIGN.RSA.other.rsa.pub", signature, signed)).toBe(
      "untrusted",
    );
    // A verifier without any keyring reports every signature as untrusted.
    const verifier = createSignatureVerifier(undefined, ".SIGN.RSA256.x.rsa.pub", signature);
    verifier.update(signed);
    expect(verifier.verdict()).toBe("untrusted");
  });

  it("refuses entry names that are not RSA signatures", () => {
    expect(() => verifySignature(keyring, ".SIGN.DSA.x.pub", new Uint8Array(), signed)).toThrow(
      SignatureError,
    );
    expect(() => verifySignature(keyring, ".PKGINFO", new Uint8Array(), signed)).toThrow(
      SignatureError,
    );
  });
});

describe("parseSignatureEntryName", () => {
  it.each([
    [
      ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
      "sha1",
      "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
    ],
    [".SIGN.RSA256.melange.rsa.pub", "sha256", "melange.rsa.pub"],
    [".SIGN.RSA512.k.rsa.pub", "sha512", "k.rsa.pub"],
  ])("%s", (entry, algorithm, keyName) => {
    expect(parseSignatureEntryName(entry)).toEqual({ algorithm, keyName });
  });

  it.each([".SIGN.RSA.", ".SIGN.DSA.k", ".SIGN.publickeyname", "SIGN.RSA.k", ".PKGINFO"])(
    "not a signature: %s",
    (entry) => {
      expect(parseSignatureEntryName(entry)).toBeUndefined();
    },
  );
});

describe("createKeyring", () => {
  const key = generateTestKey("k.rsa.pub");

  it("accepts PEM text, PEM bytes and DER bytes, and lists names sorted", () => {
    const der = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
      type: "spki",
      format: "der",
    });
    const keyring = createKeyring([
      { name: "z.rsa.pub", pem: key.publicPem },
      { name: "a.rsa.pub", pem: new TextEncoder().encode(key.publicPem) },
      { name: "m.rsa.pub", pem: new Uint8Array(der) },
    ]);
    expect(keyring.names).toEqual(["a.rsa.pub", "m.rsa.pub", "z.rsa.pub"]);
    expect(keyring.has("m.rsa.pub")).toBe(true);
    expect(keyring.has("k.rsa.pub")).toBe(false);
  });

  it("names the key it cannot use", () => {
    const unreadable = catchError(() =>
      createKeyring([{ name: "broken.rsa.pub", pem: "-----BEGIN PUBLIC KEY-----\nnope\n" }]),
    );
    expect(unreadable).toBeInstanceOf(SignatureError);
    expect((unreadable as SignatureError).message).toContain("broken.rsa.pub");

    const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({
      type: "spki",
      format: "pem",
    });
    const notRsa = catchError(() => createKeyring([{ name: "ec.pub", pem: ec.toString() }]));
    expect(notRsa).toBeInstanceOf(SignatureError);
    expect((notRsa as SignatureError).message).toMatch(/ec\.pub.*RSA/);

    expect(() => createKeyring([{ name: "../k.pub", pem: key.publicPem }])).toThrow(SignatureError);
    expect(() =>
      createKeyring([
        { name: "k.pub", pem: key.publicPem },
        { name: "k.pub", pem: key.publicPem },
      ]),
    ).toThrow(SignatureError);
  });
});

describeWithFixtures("verifySignature on real signatures", (fixtures) => {
  const alpineKey = "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub";
  const keyring = createKeyring(
    fs.readdirSync(path.join(fixtures, "alpine-keys")).map((name) => ({
      name,
      pem: fs.readFileSync(path.join(fixtures, "alpine-keys", name), "utf8"),
    })),
  );

  it("verifies Alpine's signature on strace-5.17-r0.apk over its control member", async () => {
    const bytes = new Uint8Array(
      fs.readFileSync(path.join(fixtures, "go-apkutils/testdata/strace-5.17-r0.apk")),
    );
    // The signature and control members are tar streams of their own
    // (the data tar may span members), so read just those two.
    let controlEnd = 0;
    for await (const event of readGzipMembers(bytes)) {
      if (event.type === "member-end" && event.member.index === 1) {
        controlEnd = event.member.offset + event.member.length;
        break;
      }
    }
    const { members, files } = await readTarGzip(bytes.subarray(0, controlEnd));
    const control = members[1];
    const signature = files[0];
    expect(signature?.entry.path).toBe(`.SIGN.RSA.${alpineKey}`);
    const controlBytes = bytes.subarray(
      control?.offset ?? 0,
      (control?.offset ?? 0) + (control?.length ?? 0),
    );
    expect(
      verifySignature(
        keyring,
        signature?.entry.path ?? "",
        signature?.content ?? new Uint8Array(),
        controlBytes,
      ),
    ).toBe("ok");
    // The aarch64 key is trusted too, but it did not make this signature.
    const wrongKey = `.SIGN.RSA.alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub`;
    expect(
      verifySignature(keyring, wrongKey, signature?.content ?? new Uint8Array(), controlBytes),
    ).toBe("bad");
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
