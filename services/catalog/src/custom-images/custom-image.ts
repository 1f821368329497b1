import type { ImageAccounts } from "../source-images/accounts.js";

/** A PEM CA certificate added to the image's trust store. */
export interface OverlayCertificate {
  /** File name (without extension) under the image's certificate directory. */
  readonly name: string;
  readonly pem: string;
}

/** A PEM RSA public key apk inside the image trusts, under /etc/apk/keys. */
export interface OverlayRuntimeKey {
  /** File name, e.g. `acme.rsa.pub`. */
  readonly name: string;
  readonly pem: string;
}

/** What an organization changes on top of a source image: additions only. */
export interface Overlay {
  /** Added packages (apk atoms), in the order given. */
  readonly packages: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly accounts: ImageAccounts;
  readonly certificates: readonly OverlayCertificate[];
  /** Runtime apk repositories (HTTPS URLs) written to /etc/apk/repositories. */
  readonly repositories: readonly string[];
  readonly keys: readonly OverlayRuntimeKey[];
}

/** Who made a revision. */
export interface RevisionAuthor {
  /** Identity name (the token's `name`), shown in histories. */
  readonly name: string;
  /** Identity id (the token's `sub`). */
  readonly subject: string;
}

/** One revision of an organization's customization of a source image. */
export interface CustomImage {
  readonly orgId: string;
  readonly name: string;
  readonly sourceImage: string;
  /** 1 for the first, +1 for each update. */
  readonly revision: number;
  /** The whole overlay as of this revision. */
  readonly overlay: Overlay;
  readonly author: RevisionAuthor;
  /** Why the revision was made; may be empty. */
  readonly comment: string;
  /** When this revision was made. */
  readonly createdAt: Date;
  /** When revision 1 was made. */
  readonly imageCreatedAt: Date;
}

/** Lowercase letters, digits, '-', '_'; a letter or digit first; 1 to 63 characters. */
const CUSTOM_IMAGE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** True when `name` can name a custom image (it appears in image references). */
export function isValidCustomImageName(name: string): boolean {
  return CUSTOM_IMAGE_NAME.test(name);
}

/** The rule {@link isValidCustomImageName} checks, for messages. */
export const CUSTOM_IMAGE_NAME_RULE =
  "use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit";

/** True when `id` has the shape of an organization id (a UUID). */
export function isOrganizationId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/**
 * The overlay as stored: package atoms and repository URLs trimmed, and a
 * user's gid of 0 read as "the group of the same number as the uid", as apko
 * does for a user without a gid.
 */
export function normalizeOverlay(overlay: Overlay): Overlay {
  return {
    ...overlay,
    packages: overlay.packages.map((atom) => atom.trim()),
    repositories: overlay.repositories.map((url) => url.trim()),
    accounts: {
      ...overlay.accounts,
      runAs: overlay.accounts.runAs.trim(),
      users: overlay.accounts.users.map((user) => ({
        ...user,
        gid: user.gid === 0 ? user.uid : user.gid,
      })),
    },
  };
}
