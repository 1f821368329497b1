/**
 * Signing of APK control streams and APKINDEX streams the way abuild-sign
 * does it: an RSA PKCS#1 v1.5 signature over the compressed bytes, stored as
 * the single entry of a cut tar in its own gzip member placed first.
 */

import type { KeyObject } from "node:crypto";
import { createPrivateKey, sign } from "node:crypto";
import { SignatureError } from "../errors.js";
import { writeTar } from "../tar/tar-writer.js";
import { gzipDeterministic } from "../writer/deterministic-gzip.js";

/** Digest signed over: SHA-1 gives `.SIGN.RSA.*` (apk-tools 2 default), SHA-256 gives `.SIGN.RSA256.*`. */
export type SignatureAlgorithm = "sha1" | "sha256";

/** A private key and the name apk will look its public half up by. */
export interface ApkSigner {
  /**
   * File name of the public key as installed in `/etc/apk/keys`, e.g.
   * `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
   */
  readonly keyName: string;
  /** RSA private key, PEM (PKCS#1 or PKCS#8). */
  readonly privateKeyPem: string;
  /** Digest to sign with. */
  readonly algorithm: SignatureAlgorithm;
}

/** Options of {@link createSignatureMember}. */
export interface SignatureMemberOptions {
  /** Modification time of the `.SIGN.*` tar entry (abuild uses the signing time). @default 0 */
  readonly mtime?: number;
  /** gzip level of the member. @default 9 */
  readonly gzipLevel?: number;
}

/** Tar entry name apk expects for a signature: `.SIGN.RSA.<key>` or `.SIGN.RSA256.<key>`. */
export function signatureEntryName(keyName: string, algorithm: SignatureAlgorithm): string {
  if (keyName === "" || keyName.includes("/") || keyName.includes("\0")) {
    throw new SignatureError(`key name "${keyName}" is not a plain file name`);
  }
  return `${algorithm === "sha256" ? ".SIGN.RSA256." : ".SIGN.RSA."}${keyName}`;
}

/**
 * RSA PKCS#1 v1.5 signature of `signedBytes` (the compressed control or
 * index gzip member) with the signer's key and digest.
 * @throws SignatureError when the key is not a usable RSA private key.
 */
export function signBytes(signedBytes: Uint8Array, signer: ApkSigner): Uint8Array {
  const key = rsaPrivateKey(signer);
  try {
    return new Uint8Array(sign(signer.algorithm, signedBytes, key));
  } catch (cause) {
    throw new SignatureError(`signing with key "${signer.keyName}" failed`, {}, { cause });
  }
}

/**
 * The gzip member abuild-sign prepends: a GNU-format tar holding one
 * `.SIGN.*` entry per signer (mode 0644, owner 0:0 without names), with no
 * end-of-archive blocks, compressed on its own. Prepend it to the signed
 * member to get a signed package or index.
 */
export function createSignatureMember(
  signedBytes: Uint8Array,
  signers: ApkSigner | readonly ApkSigner[],
  options: SignatureMemberOptions = {},
): Uint8Array {
  const list: readonly ApkSigner[] = Array.isArray(signers) ? signers : [signers as ApkSigner];
  if (list.length === 0) throw new SignatureError("no signer given");
  const tar = writeTar(
    list.map((signer) => ({
      path: signatureEntryName(signer.keyName, signer.algorithm),
      type: "file" as const,
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      mtime: options.mtime ?? 0,
      content: signBytes(signedBytes, signer),
    })),
    { style: "gnu", cut: true },
  );
  return gzipDeterministic(tar, options.gzipLevel ?? 9);
}

function rsaPrivateKey(signer: ApkSigner): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: signer.privateKeyPem, format: "pem" });
  } catch (cause) {
    throw new SignatureError(
      `the private key for "${signer.keyName}" is not a readable PEM key`,
      {},
      { cause },
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new SignatureError(
      `the key for "${signer.keyName}" is ${key.asymmetricKeyType ?? "unknown"}, apk signatures need RSA`,
    );
  }
  return key;
}
