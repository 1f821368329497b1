import type { KeyObject } from "node:crypto";
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";

/** The JWS algorithm of every Tailor token: Ed25519 signatures. */
export const TOKEN_ALGORITHM = "EdDSA";

/** A public key that verifies tokens, as the entitlement service publishes it. */
export interface PublicTokenKey {
  /** Key id: the token header's `kid`. */
  readonly id: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
}

/** A key that signs tokens (kept by the entitlement service only). */
export interface SigningKey extends PublicTokenKey {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

/** Key id: the first 16 hex digits of the SHA-256 of the public key's DER. */
export function tokenKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

/** Creates a fresh Ed25519 signing key. */
export function generateSigningKey(): SigningKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  return {
    id: tokenKeyId(publicKey),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** Parses a PEM public key, requiring Ed25519. */
export function parsePublicTokenKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`token keys must be Ed25519, got ${key.asymmetricKeyType ?? "unknown"}`);
  }
  return key;
}

/** Parses a PEM private key, requiring Ed25519. */
export function parsePrivateTokenKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(`token keys must be Ed25519, got ${key.asymmetricKeyType ?? "unknown"}`);
  }
  return key;
}
