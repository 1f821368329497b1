import { Code, TailorError } from "@tailor/grpc";

/**
 * The part of a service's answer a handler needs. A well-behaved service
 * always sets it; a missing one is an internal error (logged, answered 500),
 * never an empty REST body.
 */
export function answered<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new TailorError(Code.INTERNAL, `the service answered without ${what}`);
  }
  return value;
}
