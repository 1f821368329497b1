/**
 * gRPC status codes as an `as const` table. The numbers are the wire values,
 * identical to `status` in @grpc/grpc-js, so they can be compared directly.
 */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One gRPC status code (a number from 0 to 16). */
export type Code = (typeof Code)[keyof typeof Code];

const names = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** The upper-case name of a status code ("NOT_FOUND"), as used in logs and metric labels. */
export function codeName(code: Code): string {
  return names.get(code) ?? "UNKNOWN";
}

/** Whether a value received from elsewhere is one of the known status codes. */
export function isCode(value: unknown): value is Code {
  return typeof value === "number" && names.has(value);
}
