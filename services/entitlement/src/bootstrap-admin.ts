import { randomUUID } from "node:crypto";
import { apiKeySecretMatches, hashApiKeySecret, parseApiKey } from "@tailor/auth";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import { BootstrapKeyConflictError } from "./identities/errors.js";
import { BOOTSTRAP_ADMINISTRATOR_NAME, SERVICE_ADMINISTRATOR_NAME } from "./identities/identity.js";
import { takeAdvisoryLock } from "./store/advisory-lock.js";
import { findApiKeyCredential, insertApiKey } from "./store/api-key-store.js";
import type { EntitlementDatabase } from "./store/entitlement-database.js";
import { ensureAdministrator, findIdentity } from "./store/identity-store.js";

// Replicas starting together with the same key take turns.
const BOOTSTRAP_LOCK = "tailor.entitlement.bootstrap_admin";

/** Which bootstrapped administrator: its identity name and the variable its key comes from. */
export interface BootstrapIdentity {
  readonly name: string;
  readonly variable: string;
}

/** The platform administrator people sign in as (TAILOR_BOOTSTRAP_ADMIN_KEY). */
export const BOOTSTRAP_ADMINISTRATOR: BootstrapIdentity = {
  name: BOOTSTRAP_ADMINISTRATOR_NAME,
  variable: "TAILOR_BOOTSTRAP_ADMIN_KEY",
};

/** The administrator identity services act as among themselves (TAILOR_SERVICE_API_KEY). */
export const SERVICE_ADMINISTRATOR: BootstrapIdentity = {
  name: SERVICE_ADMINISTRATOR_NAME,
  variable: "TAILOR_SERVICE_API_KEY",
};

/**
 * Makes sure the platform administrator "admin" (or `options.identity`) exists and holds the API key
 * `credential` (TAILOR_BOOTSTRAP_ADMIN_KEY), storing only its hash. Running
 * it again with the same key changes nothing; a new key is added beside the
 * old ones. A key revoked through the API, or whose administrator was deleted,
 * stays revoked. Throws BootstrapKeyConflictError when the key id is taken by
 * a different key or by a key of another identity.
 */
export async function ensureBootstrapAdministrator(
  db: Kysely<EntitlementDatabase>,
  credential: string,
  options: { now: Date; logger: Logger; identity?: BootstrapIdentity },
): Promise<{ identityId: string; keyId: string }> {
  const { name, variable } = options.identity ?? BOOTSTRAP_ADMINISTRATOR;
  const parsed = parseApiKey(credential);
  if (parsed === undefined) {
    throw new TypeError(`${variable} is not shaped like an API key`);
  }
  return db.transaction().execute(async (trx) => {
    await takeAdvisoryLock(trx, BOOTSTRAP_LOCK);
    const { identity, created } = await ensureAdministrator(trx, {
      id: randomUUID(),
      name,
      createdAt: options.now,
    });
    if (created) {
      options.logger.info({ identityId: identity.id, name }, "created the bootstrap administrator");
    }
    const stored = await findApiKeyCredential(trx, parsed.id);
    if (stored === undefined) {
      await insertApiKey(trx, {
        id: parsed.id,
        identityId: identity.id,
        secretHash: hashApiKeySecret(parsed.secret),
        description: variable,
        createdAt: options.now,
      });
      options.logger.info(
        { identityId: identity.id, apiKeyId: parsed.id },
        "added the bootstrap administrator's API key",
      );
    } else if (!apiKeySecretMatches(parsed.secret, stored.secretHash)) {
      throw new BootstrapKeyConflictError(parsed.id, variable);
    } else if (stored.key.identityId !== identity.id) {
      // The key of an administrator deleted through the API was revoked with
      // it: start (so the platform is not down) but do not bring it back.
      const holder = await findIdentity(trx, stored.key.identityId);
      if (holder?.administrator !== true || holder.deletedAt === undefined) {
        throw new BootstrapKeyConflictError(parsed.id, variable);
      }
      options.logger.warn(
        { apiKeyId: parsed.id },
        `${variable} belongs to a deleted administrator and stays revoked; set a new key to sign in as ${name}`,
      );
    } else if (stored.key.revokedAt !== undefined) {
      // A revoked key stays revoked: restarting must not undo an operator's revocation.
      options.logger.warn(
        { apiKeyId: parsed.id },
        `${variable} was revoked; set a new key to sign in as ${name}`,
      );
    }
    return { identityId: identity.id, keyId: parsed.id };
  });
}
