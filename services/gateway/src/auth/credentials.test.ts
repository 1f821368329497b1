// Unit tests of the gateway's credential handling with a real token signer
// and an in-memory stand-in for the entitlement service's IssueToken.
import type { Audience } from "@tailor/auth";
import {
  createTokenSigner,
  createTokenVerifier,
  generateApiKey,
  generateSigningKey,
  staticKeySource,
} from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import { entitlementV1 } from "@tailor/proto";
import { describe, expect, it } from "vitest";
import { CredentialRejectedError, createCredentialResolver } from "./credentials.js";
import { createFailureLimiter } from "./failure-limiter.js";

const AUDIENCES: Record<number, Audience> = {
  [entitlementV1.Audience.API]: "api",
  [entitlementV1.Audience.REGISTRY]: "registry",
  [entitlementV1.Audience.APK]: "apk",
};

function setup(ttlSeconds = 300) {
  const key = generateSigningKey();
  let clock = new Date("2026-11-28T10:00:00Z");
  const signer = createTokenSigner(key, () => clock);
  const verifier = createTokenVerifier({ keys: staticKeySource([key]), clock: () => clock });
  const good = generateApiKey().credential;
  const exchanges: string[] = [];
  const entitlement = {
    async issueToken(request: { apiKey?: string; audience?: entitlementV1.Audience }) {
      exchanges.push(`${request.audience}`);
      if (request.apiKey !== good) {
        throw new TailorError(Code.UNAUTHENTICATED, "the API key is not valid");
      }
      const audience = AUDIENCES[request.audience ?? 0] ?? "api";
      const { token } = signer.sign(
        {
          subject: "id-1",
          subjectName: "ci",
          orgId: "org-1",
          orgName: "acme",
          administrator: false,
          role: "viewer",
        },
        audience,
        ttlSeconds,
      );
      return { token } as entitlementV1.IssueTokenResponse;
    },
  };
  const resolver = createCredentialResolver({ entitlement, verifier, now: () => clock });
  return {
    resolver,
    signer,
    good,
    exchanges,
    advance(ms: number) {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

describe("credential resolver", () => {
  it("exchanges an API key once per audience and token lifetime", async () => {
    const { resolver, good, exchanges, advance } = setup();
    const first = await resolver.resolve(good, "registry");
    expect(first.principal.orgName).toBe("acme");
    expect(first.principal.audience).toBe("registry");
    await resolver.resolve(good, "registry");
    await resolver.resolve(` ${good} `, "registry");
    expect(exchanges).toHaveLength(1);
    await resolver.resolve(good, "apk");
    expect(exchanges).toHaveLength(2);
    // Close to expiry the key is exchanged again instead of handing out a dying token.
    advance(290_000);
    const renewed = await resolver.resolve(good, "registry");
    expect(exchanges).toHaveLength(3);
    expect(renewed.token).not.toBe(first.token);
  });

  it("refuses a wrong API key with a rate-limit key naming the key id, and does not cache the failure", async () => {
    const { resolver, exchanges } = setup();
    const wrong = generateApiKey();
    const failure = await resolver
      .resolve(wrong.credential, "api")
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CredentialRejectedError);
    // Counted per whole secret, never per (public) key id.
    expect((failure as CredentialRejectedError).limitKey).toMatch(/^key:[A-Za-z0-9_-]{22}$/);
    expect((failure as CredentialRejectedError).limitKey).not.toContain(wrong.id);
    await resolver.resolve(wrong.credential, "api").catch(() => undefined);
    expect(exchanges).toHaveLength(2);
  });

  it("accepts a token of the asked audience only", async () => {
    const { resolver, signer } = setup();
    const subject = {
      subject: "id-2",
      subjectName: "bot",
      orgId: "org-2",
      orgName: "globex",
      role: "viewer" as const,
      administrator: false,
    };
    const { token } = signer.sign(subject, "apk", 60);
    expect((await resolver.resolve(token, "apk")).principal.orgName).toBe("globex");
    const wrongAudience = await resolver
      .resolve(token, "registry")
      .catch((error: unknown) => error);
    expect(wrongAudience).toBeInstanceOf(CredentialRejectedError);
    expect((wrongAudience as Error).message).toContain('"registry"');
    const garbage = await resolver.resolve("not-a-token", "apk").catch((error: unknown) => error);
    expect(garbage).toBeInstanceOf(CredentialRejectedError);
    expect((garbage as CredentialRejectedError).limitKey).toMatch(/^token:/);
  });

  it("refuses an expired token", async () => {
    const { resolver, signer, advance } = setup();
    const { token } = signer.sign(
      { subject: "id-2", subjectName: "bot", orgId: "org-2", role: "viewer", administrator: false },
      "registry",
      60,
    );
    advance(10 * 60_000);
    await expect(resolver.resolve(token, "registry")).rejects.toBeInstanceOf(
      CredentialRejectedError,
    );
  });

  it("passes service outages through instead of calling them bad credentials", async () => {
    const key = generateSigningKey();
    const resolver = createCredentialResolver({
      entitlement: {
        issueToken: () => Promise.reject(new TailorError(Code.UNAVAILABLE, "entitlement is down")),
      },
      verifier: createTokenVerifier({ keys: staticKeySource([key]) }),
    });
    const failure = await resolver
      .resolve(generateApiKey().credential, "api")
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TailorError);
    expect((failure as TailorError).code).toBe(Code.UNAVAILABLE);
  });
});

describe("failure limiter", () => {
  it("blocks a key after the limit until its window ends, and only that key", () => {
    let now = 1_000_000;
    const limiter = createFailureLimiter({ limit: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor("key:a")).toBeUndefined();
      limiter.fail("key:a");
    }
    expect(limiter.blockedFor("key:a")).toBe(60);
    expect(limiter.blockedFor("key:b")).toBeUndefined();
    now += 45_000;
    expect(limiter.blockedFor("key:a")).toBe(15);
    now += 15_000;
    expect(limiter.blockedFor("key:a")).toBeUndefined();
  });

  it("forgets the oldest keys beyond its bound", () => {
    const limiter = createFailureLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2 });
    limiter.fail("a");
    limiter.fail("b");
    limiter.fail("c");
    expect(limiter.blockedFor("a")).toBeUndefined();
    expect(limiter.blockedFor("b")).toBe(60);
    expect(limiter.blockedFor("c")).toBe(60);
  });
});
