import { Code, TailorError } from "@tailor/grpc";
import { describe, expect, it } from "vitest";
import type { Principal } from "../src/index.js";
import {
  authenticate,
  authorizationMetadata,
  bearerToken,
  canAccessOrg,
  createTokenSigner,
  createTokenVerifier,
  generateSigningKey,
  requireAdministrator,
  requireOrgRole,
  roleAllows,
  staticKeySource,
} from "../src/index.js";

function context(headers: Record<string, string>) {
  return { metadata: { get: (key: string) => headers[key.toLowerCase()] } };
}

async function rejection(promise: Promise<unknown>): Promise<TailorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TailorError);
  return error as TailorError;
}

function failure(run: () => unknown): TailorError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TailorError);
    return error as TailorError;
  }
  throw new Error("expected a failure");
}

const orgA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const orgB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

function principal(overrides: Partial<Principal>): Principal {
  return {
    subject: "s",
    subjectName: "someone",
    audience: "api",
    administrator: false,
    tokenId: "t",
    keyId: "k",
    issuedAt: new Date(),
    expiresAt: new Date(),
    ...overrides,
  };
}

describe("authenticate", () => {
  const key = generateSigningKey();
  const verifier = createTokenVerifier({ keys: staticKeySource([key]) });
  const { token } = createTokenSigner(key).sign(
    {
      subject: "s",
      subjectName: "olivia",
      orgId: orgA,
      orgName: "a",
      role: "owner",
      administrator: false,
    },
    "api",
    60,
  );

  it("reads the bearer token the metadata helper writes", async () => {
    const ctx = context(authorizationMetadata(token));
    expect(bearerToken(ctx)).toBe(token);
    expect((await authenticate(ctx, verifier)).subjectName).toBe("olivia");
    expect(bearerToken(context({ authorization: `bearer   ${token}  ` }))).toBe(token);
    expect(bearerToken(context({ authorization: `Basic ${token}` }))).toBeUndefined();
  });

  it("answers UNAUTHENTICATED with a reason when the token is missing or invalid", async () => {
    const missing = await rejection(authenticate(context({}), verifier));
    expect(missing.code).toBe(Code.UNAUTHENTICATED);
    expect(missing.reason).toBe("missing_token");
    const wrong = await rejection(
      authenticate(context(authorizationMetadata(token)), verifier, "registry"),
    );
    expect(wrong.code).toBe(Code.UNAUTHENTICATED);
    expect(wrong.reason).toBe("token_wrong_audience");
    const garbage = await rejection(
      authenticate(context(authorizationMetadata("x.y.z")), verifier),
    );
    expect(garbage.reason).toBe("token_malformed");
  });

  it("answers UNAVAILABLE when the keys cannot be loaded", async () => {
    const down = createTokenVerifier({
      keys: () => Promise.reject(new Error("connection refused")),
    });
    const error = await rejection(authenticate(context(authorizationMetadata(token)), down));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.reason).toBe("token_keys_unavailable");
  });
});

describe("role checks", () => {
  it("orders roles viewer < editor < owner", () => {
    expect(roleAllows("owner", "editor")).toBe(true);
    expect(roleAllows("editor", "editor")).toBe(true);
    expect(roleAllows("viewer", "editor")).toBe(false);
  });

  it("lets administrators do everything and members nothing administrative", () => {
    const admin = principal({ administrator: true });
    expect(() => requireAdministrator(admin, "rotate keys")).not.toThrow();
    expect(() => requireOrgRole(admin, orgA, "owner", "x")).not.toThrow();
    expect(canAccessOrg(admin, orgB)).toBe(true);
    const denied = failure(() =>
      requireAdministrator(principal({ orgId: orgA, role: "owner" }), "rotate keys"),
    );
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.message).toBe("only a platform administrator may rotate keys");
  });

  it("hides other organizations as NOT_FOUND and names the role a weak member lacks", () => {
    const editor = principal({ orgId: orgA, role: "editor" });
    expect(() => requireOrgRole(editor, orgA, "editor", "build")).not.toThrow();
    expect(canAccessOrg(editor, orgA)).toBe(true);
    expect(canAccessOrg(editor, orgB)).toBe(false);
    const other = failure(() => requireOrgRole(editor, orgB, "viewer", "read"));
    expect(other.code).toBe(Code.NOT_FOUND);
    expect(other.field).toBe("org_id");
    const weak = failure(() => requireOrgRole(editor, orgA, "owner", "create identities"));
    expect(weak.code).toBe(Code.PERMISSION_DENIED);
    expect(weak.message).toBe('role "editor" may not create identities: it needs "owner" or above');
  });

  it("repeats only the start of an oversized organization id it refuses", () => {
    const editor = principal({ orgId: orgA, role: "editor" });
    const huge = "o".repeat(100_000);
    const other = failure(() => requireOrgRole(editor, huge, "viewer", "read"));
    expect(other.code).toBe(Code.NOT_FOUND);
    expect(other.message.length).toBeLessThan(200);
    expect(other.metadata.org_id?.length).toBeLessThan(100);
  });
});
