import { InvalidFieldError } from "./errors.js";

// Long enough for any valid name or id, short enough that an oversized value
// cannot blow up the status trailer (grpc-js then fails the call) or the logs.
const MAX_QUOTED_LENGTH = 64;

/**
 * `value` in double quotes for an error message; only its first 64
 * characters and its length when it is longer, because requests are
 * caller-supplied and may be megabytes.
 */
export function quoted(value: string): string {
  return value.length <= MAX_QUOTED_LENGTH
    ? `"${value}"`
    : `"${value.slice(0, MAX_QUOTED_LENGTH)}…" (${value.length} characters)`;
}

/** The first 64 characters of a caller-supplied value, for error metadata. */
export function shortened(value: string): string {
  return value.length <= MAX_QUOTED_LENGTH ? value : `${value.slice(0, MAX_QUOTED_LENGTH)}…`;
}

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
  if (!isUuid(value))
    throw new InvalidFieldError(field, `${what} id ${quoted(value)} is not a UUID`);
  return value.toLowerCase();
}
