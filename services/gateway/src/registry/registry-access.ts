import type { Principal } from "@tailor/auth";
import { canAccessOrg } from "@tailor/auth";
import type { CallOptions } from "@tailor/grpc";
import type { FastifyRequest } from "fastify";
import { authenticateRequest } from "../auth/request-credentials.js";
import type { GatewayDependencies } from "../gateway-dependencies.js";
import type { RepositoryName } from "./references.js";
import { repositoryName } from "./references.js";
import { RegistryError, RegistryErrorCode } from "./registry-errors.js";

/** Path of the token endpoint, relative to the gateway's public URL. */
export const TOKEN_PATH = "/token";

/**
 * The `WWW-Authenticate` challenge Docker clients follow: where to get a
 * token (the realm), for which service, and — on repository routes — the
 * pull scope to ask for.
 */
export function bearerChallenge(
  deps: GatewayDependencies,
  request: FastifyRequest,
  repository?: RepositoryName,
  actions = "pull",
): string {
  const publicUrl = deps.publicUrl(request);
  const parts = [
    `realm=${quoted(`${publicUrl}${TOKEN_PATH}`)}`,
    `service=${quoted(registryService(publicUrl))}`,
  ];
  if (repository !== undefined) {
    parts.push(`scope=${quoted(`repository:${repository.full}:${actions}`)}`);
  }
  return `Bearer ${parts.join(",")}`;
}

/**
 * An HTTP quoted-string of `value`. Without a configured public URL the realm
 * comes from the request's Host header, so quotes, backslashes and control
 * characters are dropped rather than trusted.
 */
export function quoted(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return `"${value.replace(/["\\\u0000-\u001f\u007f]/g, "")}"`;
}

/** The `service` of tokens and challenges: the host clients reach the registry at. */
export function registryService(publicUrl: string): string {
  try {
    return new URL(publicUrl).host;
  } catch {
    return publicUrl.replace(/^[a-z]+:\/\//i, "");
  }
}

/**
 * Authenticates a registry request with a bearer token or basic credentials
 * (an API key or a `registry` token). Missing or refused credentials answer
 * 401 with the bearer challenge, so clients fetch a token and retry; a
 * credential or address over its failure limit answers 429.
 * @throws RegistryError 401 UNAUTHORIZED or 429 TOOMANYREQUESTS.
 */
export async function authenticateRegistryRequest(
  deps: GatewayDependencies,
  request: FastifyRequest,
  repository?: RepositoryName,
  actions?: string,
): Promise<Principal> {
  const outcome = await authenticateRequest(deps.auth, request, "registry", ["bearer", "basic"]);
  if (outcome.ok) return outcome.credential.principal;
  if (outcome.kind === "limited") {
    throw new RegistryError(429, RegistryErrorCode.tooManyRequests, outcome.message, undefined, {
      "retry-after": String(outcome.retryAfterSeconds),
    });
  }
  throw new RegistryError(
    401,
    RegistryErrorCode.unauthorized,
    outcome.kind === "missing"
      ? "authentication required: log in with an API key or a registry token as the password"
      : `authentication failed: ${outcome.message}`,
    undefined,
    { "www-authenticate": bearerChallenge(deps, request, repository, actions) },
  );
}

/**
 * The answer for a repository the caller may not see: the same 404 as for
 * one that does not exist, so another tenant cannot learn that a name is taken.
 */
export function nameUnknown(repository: RepositoryName): RegistryError {
  return new RegistryError(
    404,
    RegistryErrorCode.nameUnknown,
    `repository ${repository.full} not found`,
    { name: repository.full },
  );
}

/**
 * Refuses, before any service call, a repository whose organization part is
 * not the caller's (a caller without an organization name sees none).
 * Administrators pass. The organization id the registry returns is checked
 * again with {@link requireVisibleOrg}.
 * @throws RegistryError 404 NAME_UNKNOWN.
 */
export function requireOwnOrgName(principal: Principal, repository: RepositoryName): void {
  if (principal.administrator) return;
  if (principal.orgName !== repository.org) throw nameUnknown(repository);
}

/** A caller allowed to ask about a repository (its organization still to be confirmed). */
export interface PullRequestAccess {
  readonly principal: Principal;
  readonly repository: RepositoryName;
}

/**
 * The first steps of every repository route: authenticate (the challenge
 * names the repository's pull scope when the name is valid), then check the
 * name and that its organization is the caller's.
 * @throws RegistryError 401, 429, 400 NAME_INVALID or 404 NAME_UNKNOWN.
 */
export async function authorizePull(
  deps: GatewayDependencies,
  request: FastifyRequest,
  org: string,
  image: string,
): Promise<PullRequestAccess> {
  let repository: RepositoryName | undefined;
  let invalid: unknown;
  try {
    repository = repositoryName(org, image);
  } catch (error) {
    invalid = error;
  }
  const principal = await authenticateRegistryRequest(deps, request, repository);
  if (repository === undefined) throw invalid;
  requireOwnOrgName(principal, repository);
  requirePullScope(deps, request, principal, repository);
  return { principal, repository };
}

/** True when `scopes` (a token's) allow pulling `repository`. */
export function scopesAllowPull(scopes: readonly string[], repository: RepositoryName): boolean {
  const prefix = `repository:${repository.full}:`;
  return scopes.some((scope) => {
    if (!scope.startsWith(prefix)) return false;
    const actions = scope.slice(prefix.length).split(",");
    return actions.includes("pull") || actions.includes("*");
  });
}

/**
 * A token limited to scopes (the token endpoint's answer to
 * `scope=repository:<name>:pull`) pulls only those repositories; for any
 * other the answer is Docker's "insufficient_scope" challenge, so the client
 * asks the token endpoint again with this repository's scope.
 * @throws RegistryError 401 UNAUTHORIZED.
 */
export function requirePullScope(
  deps: GatewayDependencies,
  request: FastifyRequest,
  principal: Principal,
  repository: RepositoryName,
): void {
  if (principal.scopes === undefined || scopesAllowPull(principal.scopes, repository)) return;
  throw new RegistryError(
    401,
    RegistryErrorCode.unauthorized,
    `the token is limited to ${principal.scopes.join(", ")}; ask ${TOKEN_PATH} for scope repository:${repository.full}:pull`,
    { name: repository.full },
    {
      "www-authenticate": `${bearerChallenge(deps, request, repository)},error="insufficient_scope"`,
    },
  );
}

/**
 * Refuses a repository the registry says belongs to an organization the
 * caller is not in.
 * @throws RegistryError 404 NAME_UNKNOWN.
 */
export function requireVisibleOrg(
  principal: Principal,
  repository: RepositoryName,
  orgId: string,
): void {
  if (orgId === "" || !canAccessOrg(principal, orgId)) throw nameUnknown(repository);
}

/**
 * Options of a RegistryService call the gateway makes as itself (its service
 * identity, an administrator) — only after the caller's own rights were
 * checked with {@link requireOwnOrgName}.
 */
export async function serviceCall(
  deps: GatewayDependencies,
  request: FastifyRequest,
): Promise<CallOptions> {
  return { metadata: await deps.serviceMetadata(request) };
}
