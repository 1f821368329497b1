import { parseApiKey } from "@tailor/auth";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authenticateRequest, presentedCredential } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import { repositoryName } from "./references.js";
import { quoted, TOKEN_PATH } from "./registry-access.js";
import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/** What the token endpoint answers (Docker's token authentication specification). */
export interface RegistryTokenBody {
  /** A `registry`-audience token; send it as `Authorization: Bearer <token>` to /v2. */
  readonly token: string;
  /** The same token, under the OAuth 2 name some clients read. */
  readonly access_token: string;
  /** Seconds until the token expires. */
  readonly expires_in: number;
  /** When the token was issued, RFC 3339. */
  readonly issued_at: string;
}

/** Scopes one token may carry at most. */
const MAX_SCOPES = 16;
const REPOSITORY_SCOPE = /^repository:([^:]+)\/([^:/]+):([a-z*,]+)$/;

/**
 * The pull scopes a token request asks for: every `scope` parameter
 * (repeated, or space-separated as OAuth writes them) of the form
 * `repository:<org>/<image>:<actions>` whose actions include pull, as
 * `repository:<org>/<image>:pull`. Others (push, catalog, malformed names)
 * are dropped: the registry grants pulls only.
 */
export function requestedPullScopes(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const scopes: string[] = [];
  for (const item of list) {
    if (typeof item !== "string") continue;
    for (const scope of item.split(/\s+/)) {
      const match = REPOSITORY_SCOPE.exec(scope);
      if (match === null) continue;
      const actions = (match[3] ?? "").split(",");
      if (!actions.includes("pull") && !actions.includes("*")) continue;
      let name: string;
      try {
        name = repositoryName(match[1] ?? "", match[2] ?? "").full;
      } catch {
        continue;
      }
      const normalized = `repository:${name}:pull`;
      if (!scopes.includes(normalized)) scopes.push(normalized);
    }
  }
  return scopes.slice(0, MAX_SCOPES);
}

/**
 * GET `/token` (and `/v2/token`): exchanges basic credentials — any user
 * name, an API key or a `registry` token as the password — for a `registry`
 * token: an API key is exchanged for a token limited to the requested pull
 * scopes (or, without scopes, for all of the organization's repositories);
 * a token comes back as is. Every /v2 request checks the organization and
 * the scope again.
 * No credentials or bad ones answer 401; too many failures 429.
 */
export function registerTokenRoute(scope: FastifyInstance, deps: GatewayDependencies): void {
  const handler = async (
    request: FastifyRequest<{ Querystring: { scope?: unknown; service?: unknown } }>,
    reply: FastifyReply,
  ) => {
    const outcome = await authenticateRequest(deps.auth, request, "registry", ["basic", "bearer"]);
    if (!outcome.ok) {
      if (outcome.kind === "limited") {
        throw new RegistryError(
          429,
          RegistryErrorCode.tooManyRequests,
          outcome.message,
          undefined,
          {
            "retry-after": String(outcome.retryAfterSeconds),
          },
        );
      }
      throw new RegistryError(
        401,
        RegistryErrorCode.unauthorized,
        outcome.kind === "missing"
          ? "authentication required: send basic credentials with an API key or a registry token as the password"
          : `authentication failed: ${outcome.message}`,
        undefined,
        { "www-authenticate": `Basic realm=${quoted(`${deps.publicUrl(request)}${TOKEN_PATH}`)}` },
      );
    }
    // An API key asking for scopes gets a token limited to them: a leaked
    // pull token opens those repositories only. Without scopes (docker
    // login) the token pulls the holder's organization; a registry token
    // given as the password comes back as it is.
    const scopes = requestedPullScopes(request.query.scope);
    const secret = presentedCredential(request)?.secret.trim() ?? "";
    const { token, principal } =
      scopes.length > 0 && parseApiKey(secret) !== undefined
        ? await deps.auth.credentials.resolve(secret, "registry", scopes)
        : outcome.credential;
    request.log.info(
      { subject: principal.subject, orgId: principal.orgId, scopes: principal.scopes ?? [] },
      "registry token issued",
    );
    const now = deps.now();
    const body: RegistryTokenBody = {
      token,
      access_token: token,
      expires_in: Math.max(0, Math.floor((principal.expiresAt.getTime() - now.getTime()) / 1000)),
      issued_at: principal.issuedAt.toISOString(),
    };
    return reply
      .header("cache-control", "no-store")
      .type("application/json; charset=utf-8")
      .send(body);
  };
  scope.get(TOKEN_PATH, handler);
  scope.get(`/v2${TOKEN_PATH}`, handler);
}
