import { Code } from "./code.js";
import type { TailorError } from "./tailor-error.js";

/** Log level for a finished call: the caller's mistakes are info, trouble is warn, bugs are error. */
export function levelForCode(code: Code): "info" | "warn" | "error" {
  switch (code) {
    case Code.OK:
    case Code.CANCELLED:
    case Code.INVALID_ARGUMENT:
    case Code.NOT_FOUND:
    case Code.ALREADY_EXISTS:
    case Code.UNAUTHENTICATED:
      return "info";
    case Code.UNKNOWN:
    case Code.UNIMPLEMENTED:
    case Code.INTERNAL:
    case Code.DATA_LOSS:
      return "error";
    default:
      return "warn";
  }
}

/** Structured fields describing a failure, with the stack only for the server's own bugs. */
export function errorFields(error: TailorError): Record<string, unknown> {
  const fields: Record<string, unknown> = { error: error.message };
  if (error.reason !== undefined) fields.reason = error.reason;
  if (error.field !== undefined) fields.field = error.field;
  if (levelForCode(error.code) === "error") fields.err = error.cause ?? error;
  return fields;
}
