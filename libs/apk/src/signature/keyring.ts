/**
 * Verification of APK v2 signatures: RSA PKCS#1 v1.5 over the compressed
 * bytes of the member that follows the signature member, made with the key
 * the `.SIGN.<type>.<key name>` entry names. The keyring is the set of
 * public keys an operator trusts, named as apk names them (the key file's
 * basename in /etc/apk/keys).
 */
import { constants, createPublicKey, createVerify, type KeyObject, type Verify } from "node:crypto";
import { SignatureError } from "../errors.js";

/** Digest a signature was made over: `.SIGN.RSA.*` is SHA-1, `.SIGN.RSA256.*` SHA-256, `.SIGN.RSA512.*` SHA-512. */
export type SignatureDigest = "sha1" | "sha256" | "sha512";

/** Outcome of checking one signature: apk's OK, UNTRUSTED (no such key) or BAD. */
export type SignatureVerdict = "ok" | "untrusted" | "bad";

/** One signature found in a package or index, and what checking it gave. */
export interface SignatureInfo {
  /** Tar entry name, e.g. `.SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`. */
  readonly entry: string;
  /** Digest the signature covers. */
  readonly algorithm: SignatureDigest;
  /** Name of the key that made it, as apk looks it up. */
  readonly keyName: string;
  /** `untrusted` when the keyring has no key of that name (or no keyring was given). */
  readonly verdict: SignatureVerdict;
}

/** Trusted public keys by name. Build one with {@link createKeyring}. */
export interface Keyring {
  /** Names of the keys, sorted. */
  readonly names: readonly string[];
  /** Whether a key of this name is trusted. */
  has(name: string): boolean;
  /** The public key of this name, if trusted. */
  publicKey(name: string): KeyObject | undefined;
}

/** A signature check fed the signed bytes piece by piece. */
export interface SignatureVerifier {
  /** The signature entry being checked. */
  readonly entry: string;
  /** Digest and key from the entry name. */
  readonly algorithm: SignatureDigest;
  /** Name of the key from the entry name. */
  readonly keyName: string;
  /** Feeds the next signed bytes. */
  update(bytes: Uint8Array): void;
  /** Checks the signature over everything fed; call once, after the last update. */
  verdict(): SignatureVerdict;
}

// apk-tools matches these prefixes after ".SIGN."; DSA signatures are no
// longer made by anyone and are not supported here.
const SIGNATURE_TYPES: readonly (readonly [string, SignatureDigest])[] = [
  ["RSA512.", "sha512"],
  ["RSA256.", "sha256"],
  ["RSA.", "sha1"],
];

const SIGN_PREFIX = ".SIGN.";

/**
 * Builds a keyring from PEM (or DER, as bytes) public keys, each under the
 * name apk gives it: the key file's basename, e.g.
 * `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
 *
 * @throws SignatureError naming the key when one is unreadable, not RSA,
 *   has an empty or path-like name, or a name given twice.
 */
export function createKeyring(keys: Iterable<{ name: string; pem: string | Uint8Array }>): Keyring {
  const byName = new Map<string, KeyObject>();
  for (const { name, pem } of keys) {
    if (name === "" || name.includes("/") || name.includes("\0")) {
      throw new SignatureError(`key name ${JSON.stringify(name)} is not a file name`);
    }
    if (byName.has(name)) throw new SignatureError("key name given twice", { file: name });
    byName.set(name, readPublicKey(name, pem));
  }
  const names = [...byName.keys()].sort();
  return {
    names,
    has: (name) => byName.has(name),
    publicKey: (name) => byName.get(name),
  };
}

/**
 * Splits a signature entry name into its digest and key name. Returns
 * `undefined` for names that are not RSA signatures apk would check.
 */
export function parseSignatureEntryName(
  entry: string,
): { algorithm: SignatureDigest; keyName: string } | undefined {
  if (!entry.startsWith(SIGN_PREFIX)) return undefined;
  const rest = entry.slice(SIGN_PREFIX.length);
  for (const [prefix, algorithm] of SIGNATURE_TYPES) {
    if (rest.startsWith(prefix) && rest.length > prefix.length) {
      return { algorithm, keyName: rest.slice(prefix.length) };
    }
  }
  return undefined;
}

/**
 * Starts checking the signature in entry `signatureEntryName` with bytes
 * `signature`; feed it the signed bytes, then ask for the verdict. Keeps no
 * bytes, so a signature over a large stream costs no memory.
 *
 * @throws SignatureError when the entry name is not `.SIGN.RSA.*`,
 *   `.SIGN.RSA256.*` or `.SIGN.RSA512.*`.
 */
export function createSignatureVerifier(
  keyring: Keyring | undefined,
  signatureEntryName: string,
  signature: Uint8Array,
): SignatureVerifier {
  const parsed = parseSignatureEntryName(signatureEntryName);
  if (parsed === undefined) {
    throw new SignatureError("is not an RSA signature entry (.SIGN.RSA*.<key>)", {
      entry: signatureEntryName,
    });
  }
  const key = keyring?.publicKey(parsed.keyName);
  let verify: Verify | undefined = key === undefined ? undefined : createVerify(parsed.algorithm);
  let done = false;
  return {
    entry: signatureEntryName,
    algorithm: parsed.algorithm,
    keyName: parsed.keyName,
    update(bytes) {
      if (done) throw new Error("signature verifier already finished");
      verify?.update(bytes);
    },
    verdict() {
      if (done) throw new Error("signature verifier already finished");
      done = true;
      if (verify === undefined || key === undefined) return "untrusted";
      const check = verify;
      verify = undefined;
      try {
        return check.verify({ key, padding: constants.RSA_PKCS1_PADDING }, signature)
          ? "ok"
          : "bad";
      } catch {
        // OpenSSL throws on signatures of the wrong length or form: not a match.
        return "bad";
      }
    },
  };
}

/**
 * Checks one signature: `ok` when the keyring's key of the name in
 * `signatureEntryName` verifies `signature` over `signedBytes` (for a
 * package or index, the compressed bytes of the gzip member after the
 * signature member), `bad` when it does not, `untrusted` when the keyring
 * has no such key.
 *
 * @throws SignatureError when the entry name is not an RSA signature entry.
 */
export function verifySignature(
  keyring: Keyring,
  signatureEntryName: string,
  signature: Uint8Array,
  signedBytes: Uint8Array | Iterable<Uint8Array>,
): SignatureVerdict {
  const verifier = createSignatureVerifier(keyring, signatureEntryName, signature);
  if (signedBytes instanceof Uint8Array) verifier.update(signedBytes);
  else for (const bytes of signedBytes) verifier.update(bytes);
  return verifier.verdict();
}

function readPublicKey(name: string, pem: string | Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    const text = typeof pem === "string" ? pem : undefined;
    const isPemBytes =
      pem instanceof Uint8Array &&
      Buffer.from(pem.subarray(0, 64)).toString("latin1").includes("-----BEGIN");
    if (text !== undefined || isPemBytes) {
      key = createPublicKey({
        key: text ?? Buffer.from(pem as Uint8Array).toString("utf8"),
        format: "pem",
      });
    } else {
      key = createPublicKey({ key: Buffer.from(pem as Uint8Array), format: "der", type: "spki" });
    }
  } catch (cause) {
    throw new SignatureError("is not a readable public key", { file: name }, { cause });
  }
  if (key.type !== "public" || key.asymmetricKeyType !== "rsa") {
    throw new SignatureError(
      `is a ${key.asymmetricKeyType ?? "non-RSA"} ${key.type} key; apk signatures need RSA public keys`,
      { file: name },
    );
  }
  return key;
}
