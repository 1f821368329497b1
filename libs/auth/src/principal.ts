import type { Audience, Role } from "./roles.js";

/** Who a verified token speaks for. */
export interface Principal {
  /** Identity id (the token's `sub`). */
  readonly subject: string;
  /** Identity name, for logs and revision authors. */
  readonly subjectName: string;
  readonly audience: Audience;
  /** The organization the identity belongs to; undefined for a platform administrator. */
  readonly orgId?: string;
  readonly orgName?: string;
  /** The identity's role in its organization; undefined for a platform administrator. */
  readonly role?: Role;
  /** A platform administrator may act on every organization. */
  readonly administrator: boolean;
  /** What the token is limited to (e.g. `repository:acme/api:pull`); unset: not limited. */
  readonly scopes?: readonly string[];
  readonly tokenId: string;
  readonly keyId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
}
