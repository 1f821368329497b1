import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authenticateRequest } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
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

/** The `scope` query parameters (repeated or not), each shortened for the log. */
function scopesOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list
    .filter((item): item is string => typeof item === "string" && item !== "")
    .map((item) => item.slice(0, 256));
}

/**
 * GET `/token` (and `/v2/token`): exchanges basic credentials — any user
 * name, an API key or a `registry` token as the password — for a `registry`
 * token (an API key is exchanged; a token comes back as is). The token lets
 * its holder pull what their organization owns, whatever `scope` asked for;
 * every /v2 request checks the repository again.
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
    const { token, principal } = outcome.credential;
    // Scopes are logged, not enforced: a token never grants more than pulls of
    // the holder's own organization, whatever it asked for.
    const scopes = scopesOf(request.query.scope).slice(0, 8);
    request.log.info(
      { subject: principal.subject, orgId: principal.orgId, scopes },
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
