import { sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PublicTokenKey, SigningKey, TokenErrorReason, TokenSubject } from "../src/index.js";
import {
  createTokenSigner,
  createTokenVerifier,
  generateSigningKey,
  parsePrivateTokenKey,
  staticKeySource,
  TokenError,
} from "../src/index.js";

const member: TokenSubject = {
  subject: "11111111-1111-4111-8111-111111111111",
  subjectName: "olivia",
  orgId: "22222222-2222-4222-8222-222222222222",
  orgName: "acme",
  role: "editor",
  administrator: false,
};

const administrator: TokenSubject = {
  subject: "33333333-3333-4333-8333-333333333333",
  subjectName: "admin",
  administrator: true,
};

async function refusal(promise: Promise<unknown>): Promise<TokenErrorReason> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenError);
  return (error as TokenError).reason;
}

function base64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString(
    "base64url",
  );
}

/** Signs arbitrary header and payload with `key`, to build tokens the signer would never make. */
function forge(key: SigningKey, header: unknown, payload: unknown): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature = sign(null, Buffer.from(input), parsePrivateTokenKey(key.privateKeyPem));
  return `${input}.${signature.toString("base64url")}`;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

describe("token signer and verifier", () => {
  const key = generateSigningKey();
  const verifier = createTokenVerifier({ keys: staticKeySource([key]) });

  it("round-trips a member's claims", async () => {
    const { token, principal } = createTokenSigner(key).sign(member, "api", 600);
    const verified = await verifier.verify(token, "api");
    expect(verified).toEqual(principal);
    expect(verified).toMatchObject({
      subject: member.subject,
      subjectName: "olivia",
      orgId: member.orgId,
      orgName: "acme",
      role: "editor",
      administrator: false,
      audience: "api",
      keyId: key.id,
    });
    expect(verified.expiresAt.getTime() - verified.issuedAt.getTime()).toBe(600_000);
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString());
    expect(header).toEqual({ alg: "EdDSA", typ: "JWT", kid: key.id });
  });

  it("round-trips an administrator, who has no organization", async () => {
    const { token } = createTokenSigner(key).sign(administrator, "registry", 60);
    const verified = await verifier.verify(token, "registry");
    expect(verified.administrator).toBe(true);
    expect(verified.orgId).toBeUndefined();
    expect(verified.role).toBeUndefined();
  });

  it("gives every token its own id", () => {
    const signer = createTokenSigner(key);
    const a = signer.sign(member, "api", 60).principal.tokenId;
    const b = signer.sign(member, "api", 60).principal.tokenId;
    expect(a).not.toBe(b);
  });

  it("refuses lifetimes that are not a positive whole number of seconds", () => {
    const signer = createTokenSigner(key);
    expect(() => signer.sign(member, "api", 0)).toThrow(RangeError);
    expect(() => signer.sign(member, "api", 1.5)).toThrow(RangeError);
  });

  it("refuses a token for another audience", async () => {
    const { token } = createTokenSigner(key).sign(member, "registry", 60);
    expect(await refusal(verifier.verify(token, "api"))).toBe("wrong_audience");
    expect(await refusal(verifier.verify(token, "apk"))).toBe("wrong_audience");
  });

  it("refuses an expired token, allowing 30 seconds of clock skew", async () => {
    const minted = new Date("2026-01-01T00:00:00Z");
    const { token } = createTokenSigner(key, () => minted).sign(member, "api", 60);
    const at = (seconds: number) =>
      createTokenVerifier({
        keys: staticKeySource([key]),
        clock: () => new Date(minted.getTime() + seconds * 1000),
      });
    await expect(at(60 + 29).verify(token, "api")).resolves.toBeDefined();
    expect(await refusal(at(60 + 30).verify(token, "api"))).toBe("expired");
    expect(await refusal(at(3600).verify(token, "api"))).toBe("expired");
  });

  it("refuses a token from the future", async () => {
    const minted = new Date("2026-01-01T01:00:00Z");
    const { token } = createTokenSigner(key, () => minted).sign(member, "api", 7200);
    const early = createTokenVerifier({
      keys: staticKeySource([key]),
      clock: () => new Date(minted.getTime() - 120_000),
    });
    expect(await refusal(early.verify(token, "api"))).toBe("not_yet_valid");
  });

  it("refuses a bad signature and a tampered payload", async () => {
    const { token } = createTokenSigner(key).sign(member, "api", 60);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = Buffer.from(signature, "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 0xff;
    expect(
      await refusal(
        verifier.verify(`${header}.${payload}.${flipped.toString("base64url")}`, "api"),
      ),
    ).toBe("bad_signature");
    const promoted = base64url({ ...claimsOf(token), role: "owner" });
    expect(await refusal(verifier.verify(`${header}.${promoted}.${signature}`, "api"))).toBe(
      "bad_signature",
    );
    const otherKey = generateSigningKey();
    const otherSignature = forge(otherKey, { alg: "EdDSA", kid: key.id }, claimsOf(token)).split(
      ".",
    )[2];
    expect(await refusal(verifier.verify(`${header}.${payload}.${otherSignature}`, "api"))).toBe(
      "bad_signature",
    );
  });

  it("refuses a token signed by an unknown key", async () => {
    const stranger = generateSigningKey();
    const { token } = createTokenSigner(stranger).sign(member, "api", 60);
    expect(await refusal(verifier.verify(token, "api"))).toBe("unknown_key");
  });

  it("refuses malformed tokens and other algorithms", async () => {
    for (const token of ["", "abc", "a.b", "a.b.c.d", "a..c", "a b.c.d"]) {
      expect(await refusal(verifier.verify(token, "api")), token).toBe("malformed");
    }
    const { token } = createTokenSigner(key).sign(member, "api", 60);
    const [, payload, signature] = token.split(".") as [string, string, string];
    // A header that is JSON but not an object (null, a number, an array).
    for (const header of ["null", "42", "[]"]) {
      expect(
        await refusal(verifier.verify(`${base64url(header)}.${payload}.${signature}`, "api")),
        header,
      ).toBe("malformed");
    }
    const none = `${base64url({ alg: "none", kid: key.id })}.${payload}.${signature}`;
    expect(await refusal(verifier.verify(none, "api"))).toBe("unsupported_algorithm");
    const hs256 = `${base64url({ alg: "HS256", kid: key.id })}.${payload}.${signature}`;
    expect(await refusal(verifier.verify(hs256, "api"))).toBe("unsupported_algorithm");
    const noKid = `${base64url({ alg: "EdDSA" })}.${payload}.${signature}`;
    expect(await refusal(verifier.verify(noKid, "api"))).toBe("malformed");
  });

  it("refuses correctly signed tokens with a wrong issuer or missing claims", async () => {
    const { token } = createTokenSigner(key).sign(member, "api", 60);
    const claims = claimsOf(token);
    const header = { alg: "EdDSA", kid: key.id };
    expect(
      await refusal(verifier.verify(forge(key, header, { ...claims, iss: "evil" }), "api")),
    ).toBe("wrong_issuer");
    const { exp: _exp, ...withoutExpiry } = claims;
    expect(await refusal(verifier.verify(forge(key, header, withoutExpiry), "api"))).toBe(
      "malformed",
    );
    const { org: _org, ...withoutOrg } = claims;
    expect(await refusal(verifier.verify(forge(key, header, withoutOrg), "api"))).toBe("malformed");
    expect(
      await refusal(verifier.verify(forge(key, header, { ...claims, role: "god" }), "api")),
    ).toBe("malformed");
    expect(await refusal(verifier.verify(forge(key, header, [claims]), "api"))).toBe("malformed");
  });
});

describe("key rotation", () => {
  it("reloads the keys when a token names a key it does not know yet", async () => {
    const oldKey = generateSigningKey();
    const newKey = generateSigningKey();
    let published: PublicTokenKey[] = [oldKey];
    let loads = 0;
    const verifier = createTokenVerifier({
      keys: async () => {
        loads++;
        return published;
      },
      minimumReloadIntervalMs: 0,
    });
    const oldToken = createTokenSigner(oldKey).sign(member, "api", 60).token;
    await verifier.verify(oldToken, "api");
    expect(loads).toBe(1);
    await verifier.verify(oldToken, "api");
    expect(loads).toBe(1);

    published = [newKey, oldKey];
    const newToken = createTokenSigner(newKey).sign(member, "api", 60).token;
    expect((await verifier.verify(newToken, "api")).keyId).toBe(newKey.id);
    expect(loads).toBe(2);
    // The retired key keeps verifying while it is published.
    expect((await verifier.verify(oldToken, "api")).keyId).toBe(oldKey.id);
  });

  it("reloads at most once per interval, so forged key ids cannot flood the key source", async () => {
    const key = generateSigningKey();
    let loads = 0;
    const verifier = createTokenVerifier({
      keys: async () => {
        loads++;
        return [key];
      },
      minimumReloadIntervalMs: 60_000,
    });
    const stranger = generateSigningKey();
    const forged = createTokenSigner(stranger).sign(member, "api", 60).token;
    for (let i = 0; i < 5; i++) {
      expect(await refusal(verifier.verify(forged, "api"))).toBe("unknown_key");
    }
    expect(loads).toBe(1);
  });

  it("stops verifying with a key its source no longer publishes once the cached keys are too old", async () => {
    const retired = generateSigningKey();
    const current = generateSigningKey();
    let published: PublicTokenKey[] = [current, retired];
    let now = new Date("2026-12-01T00:00:00Z");
    const clock = () => now;
    const verifier = createTokenVerifier({
      keys: async () => published,
      clock,
      maximumKeyAgeMs: 60_000,
    });
    // Whoever holds the retired private key can mint tokens with any lifetime.
    const forged = createTokenSigner(retired, clock).sign(member, "api", 3600).token;
    expect((await verifier.verify(forged, "api")).keyId).toBe(retired.id);

    published = [current];
    now = new Date(now.getTime() + 59_000);
    expect((await verifier.verify(forged, "api")).keyId).toBe(retired.id);
    now = new Date(now.getTime() + 2_000);
    expect(await refusal(verifier.verify(forged, "api"))).toBe("unknown_key");
  });

  it("keeps verifying with the cached keys while a refresh fails", async () => {
    const key = generateSigningKey();
    let fail = false;
    let loads = 0;
    let now = new Date("2026-12-01T00:00:00Z");
    const clock = () => now;
    const verifier = createTokenVerifier({
      keys: async () => {
        loads++;
        if (fail) throw new Error("entitlement unavailable");
        return [key];
      },
      clock,
      maximumKeyAgeMs: 60_000,
      minimumReloadIntervalMs: 5_000,
    });
    const { token } = createTokenSigner(key, clock).sign(member, "api", 3600);
    await verifier.verify(token, "api");
    fail = true;
    now = new Date(now.getTime() + 61_000);
    await expect(verifier.verify(token, "api")).resolves.toMatchObject({ keyId: key.id });
    expect(loads).toBe(2);
    // A failing source is not asked again on every call.
    await verifier.verify(token, "api");
    expect(loads).toBe(2);
    fail = false;
    now = new Date(now.getTime() + 5_000);
    await verifier.verify(token, "api");
    expect(loads).toBe(3);
  });

  it("repeats only the start of an oversized key id in its refusal", async () => {
    const key = generateSigningKey();
    const verifier = createTokenVerifier({ keys: staticKeySource([key]) });
    const kid = "k".repeat(10_000);
    const error = await verifier
      .verify(forge(key, { alg: "EdDSA", kid }, { sub: "x" }), "api")
      .catch((e: unknown) => e as TokenError);
    expect((error as TokenError).reason).toBe("unknown_key");
    expect((error as TokenError).message.length).toBeLessThan(200);
  });

  it("tries the key source again after it failed", async () => {
    const key = generateSigningKey();
    let fail = true;
    const verifier = createTokenVerifier({
      keys: async () => {
        if (fail) throw new Error("entitlement unavailable");
        return [key];
      },
    });
    const { token } = createTokenSigner(key).sign(member, "api", 60);
    await expect(verifier.verify(token, "api")).rejects.toThrow("entitlement unavailable");
    fail = false;
    await expect(verifier.verify(token, "api")).resolves.toMatchObject({ keyId: key.id });
  });
});
