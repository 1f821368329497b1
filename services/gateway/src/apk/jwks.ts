import { createPublicKey } from "node:crypto";
import type { ApkRepositoryKey } from "./repository-key.js";

/** What apk key file names end with; go-apk appends it to a JWK's `kid`. */
export const KEY_FILE_SUFFIX = ".rsa.pub";

/** One repository key as a JSON Web Key (RFC 7517), the way `apko` discovers keys. */
export interface RepositoryJwk {
  readonly kty: "RSA";
  /**
   * The key file name without ".rsa.pub", e.g. `acme-20261128-3f9a1c2e`:
   * go-apk installs the key as `<kid>.rsa.pub` (the name the index's
   * signature carries) and fetches it from `<repository>/<kid>.rsa.pub`.
   */
  readonly kid: string;
  readonly alg: "RS256";
  readonly use: "sig";
  /** Modulus, base64url. */
  readonly n: string;
  /** Public exponent, base64url. */
  readonly e: string;
}

/** A JSON Web Key Set of repository keys. */
export interface RepositoryJwks {
  readonly keys: readonly RepositoryJwk[];
}

/** The JWK `kid` of the key file `name`: the name without ".rsa.pub". */
export function keyIdOf(name: string): string {
  return name.endsWith(KEY_FILE_SUFFIX) ? name.slice(0, -KEY_FILE_SUFFIX.length) : name;
}

/** The key file name go-apk makes of a JWK `kid`: `<kid>.rsa.pub`. */
export function keyFileName(kid: string): string {
  return `${kid}${KEY_FILE_SUFFIX}`;
}

/** The JWK of a repository key's public half. */
export function repositoryJwk(key: Pick<ApkRepositoryKey, "name" | "publicKeyPem">): RepositoryJwk {
  const jwk = createPublicKey({ key: key.publicKeyPem, format: "pem" }).export({ format: "jwk" });
  if (jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
    throw new Error(`repository key ${key.name} is not an RSA public key`);
  }
  return { kty: "RSA", kid: keyIdOf(key.name), alg: "RS256", use: "sig", n: jwk.n, e: jwk.e };
}

/** The JWKS of `keys`, in the given order (current key first). */
export function repositoryJwks(
  keys: readonly Pick<ApkRepositoryKey, "name" | "publicKeyPem">[],
): RepositoryJwks {
  return { keys: keys.map(repositoryJwk) };
}
