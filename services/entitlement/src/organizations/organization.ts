/** An organization (tenant) as the entitlement service knows it. */
export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: Date;
  /** Whether the organization may customize images at all. */
  readonly customAssemblyEnabled: boolean;
  /** Source images (by name, sorted) the organization may customize. */
  readonly customizableSourceImages: readonly string[];
  /** Whether builds also push a unique `<version>-<YYYYMMDDHHMMSS>` tag (the organization's own setting). */
  readonly uniqueTags: boolean;
}

/** Lowercase letters, digits and single inner dashes, 2 to 63 characters: safe in registry paths. */
const ORGANIZATION_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$/;

/** True when `name` can name an organization (it appears in `/v2/<org>/…` paths). */
export function isValidOrganizationName(name: string): boolean {
  return ORGANIZATION_NAME.test(name);
}
