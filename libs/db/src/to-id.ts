import { DatabaseError } from "./errors.js";

/**
 * Normalises a database id (a `bigserial` column arrives as a string from pg and,
 * unless configured otherwise, as a number from PGlite) to its decimal string.
 */
export function toId(value: string | number | bigint): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (!Number.isSafeInteger(value)) {
    throw new DatabaseError(`Cannot use ${value} as an id: it is not a safe integer`);
  }
  return value.toString();
}
