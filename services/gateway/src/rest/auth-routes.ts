// Tokens for the other audiences and the caller's own claims. A caller
// presenting an API key gets a token minted from the key itself (so it may
// live as long as the service allows, not just as long as the gateway's
// cached exchange of the key); a caller presenting a token gets it exchanged
// with the entitlement service, so the new one never outlives it.
import type { Audience } from "@tailor/auth";
import { parseApiKey } from "@tailor/auth";
import type { FastifyRequest } from "fastify";
import { presentedCredential } from "../auth/request-credentials.js";
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

/** The API key the caller presented as its bearer credential, or "" for a token. */
function presentedApiKey(request: FastifyRequest): string {
  const presented = presentedCredential(request);
  if (presented?.scheme !== "bearer" || parseApiKey(presented.secret) === undefined) return "";
  return presented.secret.trim();
}

/** REST routes of tokens and the caller's identity. */
export const authRoutes: readonly ApiRoute[] = [
  {
    method: "POST",
    path: "/api/v1/auth/token",
    operationId: "issueToken",
    summary: "Get a token for an audience",
    description:
      "Mints a short-lived token for the caller: `registry` to pull images (bearer, or the password of basic auth on /v2), `apk` for the private APK repository (the password of HTTP basic auth), `api` for this API. Asked with an API key, the token lives as long as requested (up to the service's maximum and the key's expiry); asked with a token, it never outlives that token.",
    tags: TAGS,
    body: requestObject(
      "What the token is for.",
      {
        audience: AUDIENCE_SCHEMA,
        ttlSeconds: {
          type: "integer",
          minimum: 1,
          description:
            "requested lifetime; capped by the service's maximum and by the caller's API key expiry or own token (default: the service's default)",
        },
      },
      ["audience"],
    ),
    response: { description: "The token and its claims.", schema: ISSUED_TOKEN_SCHEMA },
    async handler({ deps, body, call, request }) {
      const { audience, ttlSeconds } = body as { audience: Audience; ttlSeconds?: number };
      // Empty: the entitlement service exchanges the bearer token of `call`.
      const apiKey = presentedApiKey(request);
      const issued = await deps.entitlement.issueToken(
        { apiKey, audience: audienceEnumOf(audience), ttlSeconds: ttlSeconds ?? 0 },
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
