import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every API key starts with this, so secret scanners and humans recognise one. */
export const API_KEY_PREFIX = "tlr_";

const API_KEY_PATTERN = /^tlr_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** A freshly generated API key: `credential` is shown to the user once; store only `secretHash`. */
export interface GeneratedApiKey {
  readonly id: string;
  readonly credential: string;
  readonly secretHash: string;
}

/** Generates an API key: a public 12-character id and a 256-bit secret. */
export function generateApiKey(): GeneratedApiKey {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const idBytes = randomBytes(12);
  let id = "";
  for (const byte of idBytes) id += alphabet[byte % alphabet.length];
  const secret = randomBytes(32).toString("base64url");
  return {
    id,
    credential: `${API_KEY_PREFIX}${id}_${secret}`,
    secretHash: hashApiKeySecret(secret),
  };
}

/** Splits `tlr_<id>_<secret>`; undefined when the text is not shaped like an API key. */
export function parseApiKey(credential: string): { id: string; secret: string } | undefined {
  const match = API_KEY_PATTERN.exec(credential.trim());
  if (match === null) return undefined;
  return { id: match[1] as string, secret: match[2] as string };
}

/**
 * SHA-256 of the secret, hex. A fast hash is enough: the secret has 256 bits
 * of entropy, so there is nothing to brute-force the way passwords are.
 */
export function hashApiKeySecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares a presented secret with a stored hash in constant time. */
export function apiKeySecretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKeySecret(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
