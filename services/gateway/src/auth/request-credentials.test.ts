// authenticateRequest with the real resolver and limiter: who gets limited,
// and who still gets in when their network is limited.
import {
  createTokenSigner,
  createTokenVerifier,
  generateApiKey,
  generateSigningKey,
  staticKeySource,
} from "@tailor/auth";
import { Code, TailorError } from "@tailor/grpc";
import type { entitlementV1 } from "@tailor/proto";
import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { createCredentialResolver } from "./credentials.js";
import { createFailureLimiter } from "./failure-limiter.js";
import { authenticateRequest, clientNetwork } from "./request-credentials.js";

const SUBJECT = {
  subject: "id-1",
  subjectName: "ci",
  orgId: "org-1",
  orgName: "acme",
  role: "viewer" as const,
  administrator: false,
};

function setup() {
  const key = generateSigningKey();
  const signer = createTokenSigner(key);
  const victim = generateApiKey();
  let calls = 0;
  const entitlement = {
    async issueToken(request: { apiKey?: string }) {
      calls += 1;
      if (request.apiKey !== victim.credential) {
        throw new TailorError(Code.UNAUTHENTICATED, "the API key is not valid");
      }
      return {
        token: signer.sign(SUBJECT, "registry", 300).token,
      } as entitlementV1.IssueTokenResponse;
    },
  };
  const auth = {
    credentials: createCredentialResolver({
      entitlement,
      verifier: createTokenVerifier({ keys: staticKeySource([key]) }),
    }),
    failures: createFailureLimiter({ limit: 3, windowMs: 60_000 }),
  };
  const request = (secret: string, ip = "192.0.2.7") =>
    ({
      headers: { authorization: `Basic ${Buffer.from(`u:${secret}`).toString("base64")}` },
      ip,
      log: { info() {} },
    }) as unknown as FastifyRequest;
  return { auth, signer, victim, request, calls: () => calls };
}

describe("authenticateRequest", () => {
  it("does not let wrong secrets for a key id lock the real key out", async () => {
    const { auth, victim, request } = setup();
    for (let i = 0; i < 10; i++) {
      const forged = `tlr_${victim.id}_${generateApiKey().credential.split("_")[2]}`;
      await authenticateRequest(auth, request(forged, `198.51.100.${i}`), "registry");
    }
    const real = await authenticateRequest(
      auth,
      request(victim.credential, "203.0.113.9"),
      "registry",
    );
    expect(real.ok).toBe(true);
  });

  it("limits a network that keeps failing, but lets known-good credentials from it in", async () => {
    const { auth, signer, victim, request, calls } = setup();
    // A colleague's key is exchanged once before the noise starts.
    expect((await authenticateRequest(auth, request(victim.credential), "registry")).ok).toBe(true);
    for (let i = 0; i < 3; i++) {
      const outcome = await authenticateRequest(
        auth,
        request(generateApiKey().credential),
        "registry",
      );
      expect(outcome).toMatchObject({ ok: false, kind: "rejected" });
    }
    const guess = await authenticateRequest(auth, request(generateApiKey().credential), "registry");
    expect(guess).toMatchObject({ ok: false, kind: "limited" });
    const exchangesBefore = calls();
    // Cached API key and a token that verifies locally still get in, without service calls.
    expect((await authenticateRequest(auth, request(victim.credential), "registry")).ok).toBe(true);
    const token = signer.sign(SUBJECT, "registry", 60).token;
    expect((await authenticateRequest(auth, request(token), "registry")).ok).toBe(true);
    expect(calls()).toBe(exchangesBefore);
    // Another network is not affected.
    const elsewhere = await authenticateRequest(
      auth,
      request(generateApiKey().credential, "192.0.2.8"),
      "registry",
    );
    expect(elsewhere).toMatchObject({ kind: "rejected" });
  });

  it("refuses a credential that failed too often without checking it again", async () => {
    const { auth, request, calls } = setup();
    const wrong = generateApiKey().credential;
    for (let i = 0; i < 3; i++)
      await authenticateRequest(auth, request(wrong, `198.51.100.${i}`), "registry");
    const before = calls();
    const again = await authenticateRequest(auth, request(wrong, "198.51.100.99"), "registry");
    expect(again).toMatchObject({ ok: false, kind: "limited" });
    expect(calls()).toBe(before);
  });
});

describe("clientNetwork", () => {
  it("counts IPv4 addresses alone and IPv6 addresses by their /64", () => {
    expect(clientNetwork("192.0.2.7")).toBe("192.0.2.7");
    expect(clientNetwork("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(clientNetwork("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientNetwork("::1")).toBe("0:0:0:0::/64");
  });
});
