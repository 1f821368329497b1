import type { Role } from "@tailor/auth";

/** A person or robot acting for one organization, or a platform administrator (no organization). */
export interface Identity {
  readonly id: string;
  /** Undefined for a platform administrator. */
  readonly orgId?: string;
  readonly name: string;
  /** Undefined for a platform administrator. */
  readonly role?: Role;
  readonly administrator: boolean;
  readonly createdAt: Date;
  /** Set once the identity was deleted; its API keys are revoked then. */
  readonly deletedAt?: Date;
}

/** Name of the platform administrator TAILOR_BOOTSTRAP_ADMIN_KEY creates. */
export const BOOTSTRAP_ADMINISTRATOR_NAME = "admin";

/** Name of the administrator identity TAILOR_SERVICE_API_KEY creates for service-to-service calls. */
export const SERVICE_ADMINISTRATOR_NAME = "tailor-services";

const IDENTITY_NAME = /^[A-Za-z0-9._@-]{1,128}$/;

/** True when `name` can name an identity: letters, digits, '.', '_', '-', '@', 1 to 128 characters. */
export function isValidIdentityName(name: string): boolean {
  return IDENTITY_NAME.test(name);
}
