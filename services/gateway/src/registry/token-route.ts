import { parseApiKey } from "@tailor/auth";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ResolvedCredential } from "../auth/credentials.js";
import type { RequestAuthentication } from "../auth/request-credentials.js";
import {
  authenticateRequest,
  authenticateSecret,
  presentedCredential,
} from "../auth/request-credentials.js";
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
/** The 401/429 a failed authentication at the token endpoint answers. */
function tokenAuthFailure(
  deps: GatewayDependencies,
  request: FastifyRequest,
  outcome: Exclude<RequestAuthentication, { ok: true }>,
): RegistryError {
  if (outcome.kind === "limited") {
    return new RegistryError(429, RegistryErrorCode.tooManyRequests, outcome.message, undefined, {
      "retry-after": String(outcome.retryAfterSeconds),
    });
  }
  return new RegistryError(
    401,
    RegistryErrorCode.unauthorized,
    outcome.kind === "missing"
      ? "authentication required: send basic credentials with an API key or a registry token as the password"
      : `authentication failed: ${outcome.message}`,
    undefined,
    { "www-authenticate": `Basic realm=${quoted(`${deps.publicUrl(request)}${TOKEN_PATH}`)}` },
  );
}

/**
 * The token answer for an authenticated caller. An API key asking for
 * scopes gets a token limited to them: a leaked pull token opens those
 * repositories only. Without scopes (docker login) the token pulls the
 * holder's organization; a registry token given as the password comes back
 * as it is.
 */
async function tokenAnswer(
  deps: GatewayDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  secret: string,
  credential: ResolvedCredential,
  requestedScopes: unknown,
): Promise<FastifyReply> {
  const scopes = requestedPullScopes(requestedScopes);
  const { token, principal } =
    scopes.length > 0 && parseApiKey(secret.trim()) !== undefined
      ? await deps.auth.credentials.resolve(secret.trim(), "registry", scopes)
      : credential;
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
}

/** The OAuth 2 error body of a refused POST /token form. */
function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .type("application/json; charset=utf-8")
    .send({ error, error_description: description });
}

/**
 * GET `/token` (and `/v2/token`): exchanges basic credentials — any user
 * name, an API key or a `registry` token as the password — for a `registry`
 * token limited to the requested pull scopes (see {@link tokenAnswer}).
 * POST `/token` takes the same as an OAuth 2 password grant form
 * (`grant_type=password&username=…&password=…&scope=…`), which containerd
 * tries first. No credentials or bad ones answer 401; too many failures 429.
 */
export function registerTokenRoute(scope: FastifyInstance, deps: GatewayDependencies): void {
  const get = async (
    request: FastifyRequest<{ Querystring: { scope?: unknown; service?: unknown } }>,
    reply: FastifyReply,
  ) => {
    const outcome = await authenticateRequest(deps.auth, request, "registry", ["basic", "bearer"]);
    if (!outcome.ok) throw tokenAuthFailure(deps, request, outcome);
    const secret = presentedCredential(request)?.secret ?? "";
    return tokenAnswer(deps, request, reply, secret, outcome.credential, request.query.scope);
  };
  const post = async (request: FastifyRequest, reply: FastifyReply) => {
    const form = (request.body ?? {}) as Record<string, unknown>;
    const grant = typeof form.grant_type === "string" ? form.grant_type : "";
    if (grant !== "password") {
      return oauthError(
        reply,
        400,
        "unsupported_grant_type",
        `grant_type ${JSON.stringify(grant)} is not supported; use "password" with an API key or a registry token as the password`,
      );
    }
    const password = typeof form.password === "string" ? form.password : "";
    if (password === "") {
      return oauthError(reply, 400, "invalid_request", "password is required");
    }
    const outcome = await authenticateSecret(deps.auth, request, password, "registry");
    if (!outcome.ok) {
      if (outcome.kind === "limited") {
        reply.header("retry-after", String(outcome.retryAfterSeconds));
        return oauthError(reply, 429, "slow_down", outcome.message);
      }
      return oauthError(reply, 401, "invalid_grant", outcome.message);
    }
    return tokenAnswer(deps, request, reply, password, outcome.credential, form.scope);
  };
  scope.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: 64 * 1024 },
    (_request, body, done) => {
      const form: Record<string, string | string[]> = {};
      for (const [key, value] of new URLSearchParams(String(body))) {
        const existing = form[key];
        form[key] =
          existing === undefined
            ? value
            : Array.isArray(existing)
              ? [...existing, value]
              : [existing, value];
      }
      done(null, form);
    },
  );
  scope.get(TOKEN_PATH, get);
  scope.get(`/v2${TOKEN_PATH}`, get);
  scope.post(TOKEN_PATH, post);
  scope.post(`/v2${TOKEN_PATH}`, post);
}
