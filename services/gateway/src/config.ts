import { apiKeyEnvField } from "@tailor/auth";
import type { ConfigOf, Environment } from "@tailor/config";
import { env, loadConfig } from "@tailor/config";

/** TAILOR_SERVICE_API_KEY: checked for shape, never repeated in an error. */
const serviceApiKey = apiKeyEnvField(
  "TAILOR_SERVICE_API_KEY",
  'API key of the service identity "tailor-services"; the gateway reads registries and builds APK indexes with it after checking the caller\'s own token. Unset: `/v2` and `/apk` answer 503.',
);

/** Variables the gateway reads (documented in the README's configuration table). */
export const gatewaySpec = {
  serviceApiKey,
  publicUrl: env.optionalUrl(
    "TAILOR_GATEWAY_PUBLIC_URL",
    "URL clients reach the gateway at (e.g. `https://tailor.example.com`): the registry's token realm, the APK JWKS address and OpenAPI's server. Unset: taken from each request's Host header.",
    ["http:", "https:"],
  ),
  consoleDir: env.optionalString(
    "TAILOR_GATEWAY_CONSOLE_DIR",
    "Directory of the web console's built static files, served from `/` (`index.html` for client-side routes, `assets/` cached for a year). Unset: a placeholder page.",
  ),
  trustedProxies: env.optionalString(
    "TAILOR_GATEWAY_TRUSTED_PROXIES",
    "Comma-separated addresses or CIDRs of reverse proxies whose `X-Forwarded-For`/`-Proto`/`-Host` the gateway believes (client addresses for rate limits and logs, the public URL). Unset: forwarded headers are ignored.",
  ),
  authFailureLimit: env.integer("TAILOR_GATEWAY_AUTH_FAILURE_LIMIT", {
    default: 20,
    min: 1,
    doc: "Failed authentications one credential (or one client address) may make per window before the gateway answers 429.",
  }),
  authFailureWindowSeconds: env.integer("TAILOR_GATEWAY_AUTH_FAILURE_WINDOW_SECONDS", {
    default: 60,
    min: 1,
    doc: "Length of the window of TAILOR_GATEWAY_AUTH_FAILURE_LIMIT.",
  }),
  apkIndexCacheSeconds: env.integer("TAILOR_GATEWAY_APK_INDEX_CACHE_SECONDS", {
    default: 30,
    min: 0,
    doc: "How long a built per-organization APKINDEX is reused before the entitled set is asked again (0: every request).",
  }),
  apkKeyRotationDays: env.integer("TAILOR_GATEWAY_APK_KEY_ROTATION_DAYS", {
    default: 90,
    min: 0,
    doc: "An organization's APK repository signing key older than this is replaced on next use; the previous key keeps signing alongside for one more period (0: never rotate by age).",
  }),
} as const;

/** The gateway's own configuration. */
export type GatewayConfig = ConfigOf<typeof gatewaySpec>;

/** Reads the gateway's variables; throws ConfigError listing every problem. */
export function loadGatewayConfig(environment: Environment): GatewayConfig {
  return loadConfig(gatewaySpec, environment);
}
