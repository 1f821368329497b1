import type { EnvField } from "@tailor/config";
import { parseApiKey } from "./api-key.js";

/**
 * An optional environment variable holding an API key
 * (`TAILOR_SERVICE_API_KEY`, `TAILOR_BOOTSTRAP_ADMIN_KEY`): checked for
 * shape, and a bad value is reported without repeating the secret.
 */
export function apiKeyEnvField(name: string, doc: string): EnvField<string | undefined> {
  return {
    name,
    doc,
    defaultText: "unset",
    parse(raw) {
      if (raw === undefined || raw.trim() === "") return { ok: true, value: undefined };
      if (parseApiKey(raw) === undefined) {
        return {
          ok: false,
          error:
            "must be an API key tlr_<12 lowercase letters or digits>_<43 base64url characters> (the value is not shown here because it is a secret)",
        };
      }
      return { ok: true, value: raw.trim() };
    },
  };
}
