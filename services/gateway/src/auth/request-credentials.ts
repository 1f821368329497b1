import { isIPv6 } from "node:net";
import type { Audience } from "@tailor/auth";
import type { FastifyRequest } from "fastify";
import type { CredentialResolver, ResolvedCredential } from "./credentials.js";
import { CredentialRejectedError } from "./credentials.js";
import type { FailureLimiter } from "./failure-limiter.js";

/** What a request presented in its Authorization header. */
export interface PresentedCredential {
  readonly scheme: "bearer" | "basic";
  /** The bearer token, or the basic password. */
  readonly secret: string;
  /** The basic user name (informational only). */
  readonly user?: string;
}

/** Reads `Authorization: Bearer <secret>` or `Authorization: Basic base64(user:secret)`. */
export function presentedCredential(request: FastifyRequest): PresentedCredential | undefined {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^\s*(bearer|basic)\s+(\S+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const scheme = (match[1] ?? "").toLowerCase() as "bearer" | "basic";
  const value = match[2] ?? "";
  if (scheme === "bearer") return { scheme, secret: value };
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { scheme, user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** Outcome of {@link authenticateRequest}. */
export type RequestAuthentication =
  | { readonly ok: true; readonly credential: ResolvedCredential }
  | { readonly ok: false; readonly kind: "missing"; readonly message: string }
  | { readonly ok: false; readonly kind: "rejected"; readonly message: string }
  | {
      readonly ok: false;
      readonly kind: "limited";
      readonly message: string;
      readonly retryAfterSeconds: number;
    };

/** What {@link authenticateRequest} uses. */
export interface RequestAuthenticator {
  readonly credentials: CredentialResolver;
  readonly failures: FailureLimiter;
}

/**
 * Authenticates a request for `audience` with the credential of its
 * Authorization header (bearer or basic, per `schemes`). Failed attempts count
 * against both the credential and the client address; either over its limit
 * answers "limited" without checking the credential.
 */
export async function authenticateRequest(
  auth: RequestAuthenticator,
  request: FastifyRequest,
  audience: Audience,
  schemes: readonly ("bearer" | "basic")[] = ["bearer", "basic"],
): Promise<RequestAuthentication> {
  const presented = presentedCredential(request);
  if (presented === undefined || !schemes.includes(presented.scheme) || presented.secret === "") {
    return {
      ok: false,
      kind: "missing",
      message: `authentication required: send ${schemes.map((s) => (s === "bearer" ? "Authorization: Bearer <API key or token>" : "HTTP basic credentials with an API key or token as the password")).join(" or ")}`,
    };
  }
  return authenticateSecret(auth, request, presented.secret, audience);
}

/**
 * Authenticates `secret` (an API key or a token, however the client sent it:
 * an Authorization header, an OAuth form's password) for `audience`, with the
 * same failure counting and limits as {@link authenticateRequest}.
 */
export async function authenticateSecret(
  auth: RequestAuthenticator,
  request: FastifyRequest,
  secret: string,
  audience: Audience,
): Promise<RequestAuthentication> {
  const presented = { secret };
  const credentialKey = auth.credentials.limitKey(presented.secret);
  const addressKey = `ip:${clientNetwork(request.ip)}`;
  const keys = [credentialKey, addressKey];
  const limited = (wait: number): RequestAuthentication => ({
    ok: false,
    kind: "limited",
    message: `too many failed authentications; try again in ${wait} s`,
    retryAfterSeconds: wait,
  });
  // This very credential failed too often: refuse it without any check.
  const credentialWait = auth.failures.blockedFor(credentialKey);
  if (credentialWait !== undefined) return limited(credentialWait);
  // The client's network failed too often (someone there guesses): only
  // credentials that check out without a call still get in, so one bad
  // client behind a shared address cannot lock everyone else out.
  const addressWait = auth.failures.blockedFor(addressKey);
  if (addressWait !== undefined) {
    const known = await auth.credentials.resolveLocally(presented.secret, audience);
    return known === undefined ? limited(addressWait) : { ok: true, credential: known };
  }
  try {
    return { ok: true, credential: await auth.credentials.resolve(presented.secret, audience) };
  } catch (error) {
    if (error instanceof CredentialRejectedError) {
      for (const key of keys) auth.failures.fail(key);
      request.log.info(
        { limitKey: keys[0], audience, reason: error.message },
        "authentication failed",
      );
      return { ok: false, kind: "rejected", message: error.message };
    }
    throw error;
  }
}

/**
 * The network failures are counted for: the IPv4 address itself, an IPv6
 * address's /64 (one host usually owns a whole /64).
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] ?? address;
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}
