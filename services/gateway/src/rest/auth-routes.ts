// Tokens for the other audiences and the caller's own claims. A token is
// minted by exchanging the caller's `api` token with the entitlement
// service, so it never outlives the credential it came from.
import type { Audience } from "@tailor/auth";
import type { ApiRoute } from "./api-route.js";
import {
  AUDIENCE_SCHEMA,
  audienceEnumOf,
  ISSUED_TOKEN_SCHEMA,
  issuedTokenJson,
  principalJson,
  requestObject,
  TOKEN_CLAIMS_SCHEMA,
} from "./representations.js";
import { answered } from "./service-answer.js";

const TAGS = ["auth"];

/** REST routes of tokens and the caller's identity. */
export const authRoutes: readonly ApiRoute[] = [
  {
    method: "POST",
    path: "/api/v1/auth/token",
    operationId: "issueToken",
    summary: "Get a token for an audience",
    description:
      "Mints a short-lived token for the caller: `registry` to pull images (bearer, or the password of basic auth on /v2), `apk` for the private APK repository (the password of HTTP basic auth), `api` for this API. The token never outlives the credential that asked for it.",
    tags: TAGS,
    body: requestObject(
      "What the token is for.",
      {
        audience: AUDIENCE_SCHEMA,
        ttlSeconds: {
          type: "integer",
          minimum: 1,
          description:
            "requested lifetime; capped by the service's maximum and by the caller's own token (default: the service's default)",
        },
      },
      ["audience"],
    ),
    response: { description: "The token and its claims.", schema: ISSUED_TOKEN_SCHEMA },
    async handler({ deps, body, call }) {
      const { audience, ttlSeconds } = body as { audience: Audience; ttlSeconds?: number };
      const issued = await deps.entitlement.issueToken(
        { apiKey: "", audience: audienceEnumOf(audience), ttlSeconds: ttlSeconds ?? 0 },
        call,
      );
      return issuedTokenJson(issued);
    },
  },
  {
    method: "GET",
    path: "/api/v1/auth/whoami",
    operationId: "whoami",
    summary: "Who the caller is",
    description: "The claims of the caller's credential (an API key is shown as its api token).",
    tags: TAGS,
    response: { description: "The caller's claims.", schema: TOKEN_CLAIMS_SCHEMA },
    async handler({ credential }) {
      return principalJson(answered(credential, "credentials").principal);
    },
  },
];
