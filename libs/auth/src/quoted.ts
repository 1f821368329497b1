// Token headers, claims and request fields are caller-supplied and may be
// huge: error messages repeat only their start, so neither the status
// trailer nor the logs grow with them.
const MAX_QUOTED_LENGTH = 64;

/** `value` as a JSON string for an error message; only its first 64 characters and its length when longer. */
export function quoted(value: string): string {
  return value.length <= MAX_QUOTED_LENGTH
    ? JSON.stringify(value)
    : `${JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH))}… (${value.length} characters)`;
}

/** The first 64 characters of a caller-supplied value, for error metadata. */
export function shortened(value: string): string {
  return value.length <= MAX_QUOTED_LENGTH ? value : `${value.slice(0, MAX_QUOTED_LENGTH)}…`;
}
