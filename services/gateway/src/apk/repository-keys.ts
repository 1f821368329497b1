import { generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { Kysely } from "@tailor/db";
import type { Logger } from "@tailor/log";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import {
  listApkPublicKeys,
  listApkSigningKeys,
  replaceCurrentApkSigningKey,
} from "../store/apk-signing-key-store.js";
import type { GatewayDatabase } from "../store/gateway-database.js";
import type { ApkOrganization, ApkRepositoryKey, ApkSigningKey } from "./repository-key.js";
import { publicKeyOf } from "./repository-key.js";

const generateRsaKeyPair = promisify(generateKeyPair);
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * RSA modulus of new repository keys, as `abuild-keygen` makes them today.
 * @default 4096
 */
export const APK_KEY_MODULUS_BITS = 4096;

/**
 * How long a replaced key keeps co-signing when rotation by age is off
 * (TAILOR_GATEWAY_APK_KEY_ROTATION_DAYS=0); otherwise it is one rotation period.
 * @default 30
 */
export const DEFAULT_KEY_OVERLAP_DAYS = 30;

/**
 * How long a retired key stays in the JWKS (and as a key file) after it
 * stopped co-signing, so a client holding an index it signed can still find it.
 * @default 30
 */
export const RETIRED_KEY_LISTING_DAYS = 30;

/** How a rotation treats the key it replaces. */
export interface RotationOptions {
  /**
   * The replaced key stops signing and leaves the JWKS at once, for a key
   * that leaked; clients must install the new key before their next update.
   * @default false (it co-signs for the overlap period, then stays listed a while)
   */
  readonly immediate?: boolean;
}

/**
 * An organization's repository keys: created on first use, rotated by age on
 * use or on demand. Only {@link ApkRepositoryKeys.signingKeyPairs} reads
 * private keys; every other answer carries public halves only.
 */
export interface ApkRepositoryKeys {
  /**
   * Keys that sign the organization's index now (public halves): the current
   * key first, then the previous key while it is within its overlap period.
   * Creates the first key, or rotates one older than the rotation period, on the way.
   */
  signingKeys(org: ApkOrganization): Promise<ApkRepositoryKey[]>;
  /** The same keys as {@link ApkRepositoryKeys.signingKeys} with their private halves, to sign with. */
  signingKeyPairs(org: ApkOrganization): Promise<ApkSigningKey[]>;
  /** Keys of the organization's JWKS (public halves): the signing keys and retired keys still listed. */
  publishedKeys(org: ApkOrganization): Promise<ApkRepositoryKey[]>;
  /** Replaces the current key with a new one now; answers the new key's public facts. */
  rotate(org: ApkOrganization, options?: RotationOptions): Promise<ApkRepositoryKey>;
}

/** Options of {@link createApkRepositoryKeys}. */
export interface ApkRepositoryKeysOptions {
  readonly db: Kysely<GatewayDatabase>;
  /** A current key older than this many days is replaced on next use; 0 never. */
  readonly rotationDays: number;
  readonly now: () => Date;
  readonly logger: Logger;
  /** @default APK_KEY_MODULUS_BITS */
  readonly modulusBits?: number;
}

/** `acme` at 2026-11-28 → `acme-20261128-<8 hex>.rsa.pub`: a plain file name apk and apko accept. */
export function repositoryKeyName(orgName: string, createdAt: Date): string {
  const safe = orgName.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "") || "tailor";
  const day = createdAt.toISOString().slice(0, 10).replace(/-/g, "");
  return `${safe}-${day}-${randomBytes(4).toString("hex")}.rsa.pub`;
}

/**
 * Keeps organizations' repository keys in the gateway schema. Concurrent
 * first uses in one process share one key generation; gateways racing each
 * other are settled by the store (the loser's fresh key is discarded).
 */
export function createApkRepositoryKeys(options: ApkRepositoryKeysOptions): ApkRepositoryKeys {
  const modulusBits = options.modulusBits ?? APK_KEY_MODULUS_BITS;
  const overlapMs =
    (options.rotationDays > 0 ? options.rotationDays : DEFAULT_KEY_OVERLAP_DAYS) * DAY_MS;
  const pending = new Map<string, Promise<void>>();

  async function generate(org: ApkOrganization, now: Date) {
    const { publicKey, privateKey } = await generateRsaKeyPair("rsa", {
      modulusLength: modulusBits,
      publicExponent: 0x10001,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    return {
      name: repositoryKeyName(org.name, now),
      orgId: org.id,
      publicKeyPem: publicKey,
      privateKeyPem: privateKey,
    };
  }

  async function replace(
    org: ApkOrganization,
    expectedCurrent: string | null | undefined,
    rotation: RotationOptions,
  ): Promise<ApkRepositoryKey> {
    const key = await generate(org, options.now());
    const now = options.now();
    const signsUntil = rotation.immediate === true ? now : new Date(now.getTime() + overlapMs);
    const listedUntil =
      rotation.immediate === true
        ? now
        : new Date(signsUntil.getTime() + RETIRED_KEY_LISTING_DAYS * DAY_MS);
    const outcome = await replaceCurrentApkSigningKey(options.db, {
      key,
      now,
      ...(expectedCurrent === undefined ? {} : { expectedCurrent }),
      retiredSignsUntil: signsUntil,
      retiredListedUntil: listedUntil,
    });
    if (outcome.replaced) {
      options.logger.info(
        {
          org: org.name,
          orgId: org.id,
          key: key.name,
          replaced: expectedCurrent ?? undefined,
          immediate: rotation.immediate === true,
        },
        expectedCurrent === null ? "APK repository key created" : "APK repository key rotated",
      );
    }
    return outcome.current;
  }

  /** Creates or rotates (by age) the current key once per organization at a time. */
  async function ensureCurrent(org: ApkOrganization, expectedCurrent: string | null) {
    const running = pending.get(org.id);
    if (running !== undefined) return running;
    const work = replace(org, expectedCurrent, {}).then(() => undefined);
    pending.set(org.id, work);
    try {
      await work;
    } finally {
      pending.delete(org.id);
    }
  }

  function isDue(key: ApkRepositoryKey, now: Date): boolean {
    return (
      options.rotationDays > 0 &&
      now.getTime() - key.createdAt.getTime() >= options.rotationDays * DAY_MS
    );
  }

  /** The organization's listed keys (public halves), after creating or rotating the current one if needed. */
  async function listed(org: ApkOrganization): Promise<{ keys: ApkRepositoryKey[]; now: Date }> {
    let now = options.now();
    let keys = await listApkPublicKeys(options.db, org.id, now);
    const current = keys.find((key) => key.retiredAt === undefined);
    if (current === undefined || isDue(current, now)) {
      await ensureCurrent(org, current?.name ?? null);
      now = options.now();
      keys = await listApkPublicKeys(options.db, org.id, now);
    }
    return { keys, now };
  }

  return {
    async signingKeys(org) {
      const { keys, now } = await listed(org);
      return keys.filter((key) => signsAt(key, now));
    },
    async signingKeyPairs(org) {
      const { now } = await listed(org);
      return listApkSigningKeys(options.db, org.id, now);
    },
    async publishedKeys(org) {
      return (await listed(org)).keys;
    },
    rotate(org, rotation = {}) {
      return replace(org, undefined, rotation);
    },
  };
}

/** Whether `key` signs the index at `now`: it is current, or retired and within its overlap. */
function signsAt(key: ApkRepositoryKey, now: Date): boolean {
  return (
    key.retiredAt === undefined ||
    (key.signsUntil !== undefined && key.signsUntil.getTime() > now.getTime())
  );
}

/**
 * Replaces an organization's APK repository key now (an administrator's
 * action; the REST API may expose it). The previous key keeps co-signing the
 * index for one rotation period (30 days when rotation by age is off) and
 * stays in the JWKS 30 days longer, unless `immediate`. Every gateway signs
 * with the new key from its next index request: the signed-index cache is
 * keyed by the signing keys.
 * @returns the new current key's public facts.
 */
export async function rotateApkRepositoryKey(
  deps: Pick<GatewayDependencies, "db" | "config" | "logger" | "now">,
  org: ApkOrganization,
  options: RotationOptions = {},
): Promise<ApkRepositoryKey> {
  const keys = createApkRepositoryKeys({
    db: deps.db,
    rotationDays: deps.config.apkKeyRotationDays,
    now: () => deps.now(),
    logger: deps.logger,
  });
  return publicKeyOf(await keys.rotate(org, options));
}
