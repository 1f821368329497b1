import type { Audience, Principal, TokenSigner, TokenSubject, TokenVerifier } from "@tailor/auth";
import { createTokenSigner, createTokenVerifier, generateSigningKey } from "@tailor/auth";
import type { Kysely } from "@tailor/db";
import type { EntitlementDatabase } from "../store/entitlement-database.js";
import {
  createCurrentSigningKeyIfMissing,
  findCurrentSigningKey,
  listVerificationKeys,
  rotateSigningKey,
} from "../store/signing-key-store.js";
import type { StoredSigningKey } from "./stored-signing-key.js";
import { RETIRED_KEY_VERIFICATION_SECONDS } from "./token-lifetime.js";

/**
 * A token whose kid this replica does not know makes the verifier re-read
 * the keys at most this often, so another replica's rotation is seen quickly
 * while forged kids cannot hammer the database.
 */
const KEY_RELOAD_INTERVAL_MS = 1000;

/** The entitlement service's signing keys: mints tokens with the current key, verifies with every key in its window. */
export interface TokenKeyring {
  /** Creates the first signing key when there is none (safe when replicas start together). */
  ensureCurrentKey(): Promise<StoredSigningKey>;
  /** Signs a token with the current key (read from the database, so another replica's rotation counts at once). */
  sign(
    subject: TokenSubject,
    audience: Audience,
    ttlSeconds: number,
  ): Promise<{ token: string; principal: Principal }>;
  /** Verifies a token with the current and recently retired keys; throws TokenError. */
  verify(token: string, audience: Audience): Promise<Principal>;
  /** The current key first, then retired keys still inside their verification window, newest first. */
  verificationKeys(): Promise<readonly StoredSigningKey[]>;
  /** Retires the current key and makes a new one current. */
  rotate(): Promise<StoredSigningKey>;
}

/** Creates the keyring over the `token_signing_keys` table; `now` is the service's clock. */
export function createTokenKeyring(db: Kysely<EntitlementDatabase>, now: () => Date): TokenKeyring {
  const signers = new Map<string, TokenSigner>();
  const verificationKeys = () =>
    listVerificationKeys(db, new Date(now().getTime() - RETIRED_KEY_VERIFICATION_SECONDS * 1000));
  const newVerifier = (): TokenVerifier =>
    createTokenVerifier({
      keys: verificationKeys,
      clock: now,
      minimumReloadIntervalMs: KEY_RELOAD_INTERVAL_MS,
    });
  let verifier = newVerifier();

  const signerFor = (key: StoredSigningKey): TokenSigner => {
    let signer = signers.get(key.id);
    if (signer === undefined) {
      signer = createTokenSigner(key, now);
      signers.set(key.id, signer);
    }
    return signer;
  };

  const current = async (): Promise<StoredSigningKey> =>
    (await findCurrentSigningKey(db)) ??
    (await createCurrentSigningKeyIfMissing(db, generateSigningKey(), now()));

  return {
    ensureCurrentKey: current,
    async sign(subject, audience, ttlSeconds) {
      return signerFor(await current()).sign(subject, audience, ttlSeconds);
    },
    verify: (token, audience) => verifier.verify(token, audience),
    verificationKeys,
    async rotate() {
      const key = await rotateSigningKey(db, generateSigningKey(), now());
      // This replica sees its own rotation at once; others reload on the new kid.
      verifier = newVerifier();
      return key;
    },
  };
}
