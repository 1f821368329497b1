/** An organization (tenant) as the entitlement service knows it. */
export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: Date;
}

/** Lowercase letters, digits and single inner dashes, 2 to 63 characters: safe in registry paths. */
const ORGANIZATION_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}$/;

/** True when `name` can name an organization (it appears in `/v2/<org>/…` paths). */
export function isValidOrganizationName(name: string): boolean {
  return ORGANIZATION_NAME.test(name);
}

/** True when `id` has the shape of a UUID. */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
