import { InvalidFieldError } from "./errors.js";

/** True when `id` has the shape of a UUID. */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/**
 * Returns `value` when it is a UUID; else throws InvalidFieldError naming
 * `field` (e.g. "org_id") and what was sent.
 */
export function requireUuid(field: string, value: string, what: string): string {
  if (value === "") throw new InvalidFieldError(field, `${field} is required: give the ${what} id`);
  if (!isUuid(value)) throw new InvalidFieldError(field, `${what} id "${value}" is not a UUID`);
  return value.toLowerCase();
}
