import { BlobNotFoundError } from "@tailor/blob";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyRequest } from "fastify";
import { describe, expect, it, vi } from "vitest";
import { ServiceCredentialsMissingError } from "../gateway-dependencies.js";
import { ApkRequestError, apkErrorOf } from "./apk-errors.js";
import { ArchNotServedError } from "./entitled-index.js";

/** A request whose log calls are recorded. */
function fakeRequest() {
  const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
  return { request: { id: "req-1", log } as unknown as FastifyRequest, log };
}

describe("APK route errors", () => {
  it.each([Code.UNAUTHENTICATED, Code.PERMISSION_DENIED])(
    "answers a refusal of the gateway's own service identity (code %s) 503, not 401/403, and logs it",
    (code) => {
      const { request, log } = fakeRequest();
      const answer = apkErrorOf(request, new TailorError(code, "api key revoked"));
      expect([answer.status, answer.code]).toEqual([503, "UNAVAILABLE"]);
      expect(answer.message).toMatch(/service identity/);
      expect(answer.message).not.toContain("api key revoked");
      expect(answer.headers).toMatchObject({ "retry-after": expect.any(String) });
      expect(log.error).toHaveBeenCalledOnce();
    },
  );

  it("answers package bytes missing from the blob store 503 with Retry-After and logs it", () => {
    const { request, log } = fakeRequest();
    const answer = apkErrorOf(request, new BlobNotFoundError(`sha256:${"b".repeat(64)}`));
    expect([answer.status, answer.code]).toEqual([503, "UNAVAILABLE"]);
    expect(answer.headers).toMatchObject({ "retry-after": expect.any(String) });
    expect(log.error).toHaveBeenCalledOnce();
  });

  it("maps the other failures to the REST error format's statuses and codes", () => {
    const { request } = fakeRequest();
    const cases: [unknown, number, string][] = [
      [new ApkRequestError(404, "NOT_FOUND", "no such file"), 404, "NOT_FOUND"],
      [new ArchNotServedError("riscv64"), 404, "NOT_FOUND"],
      [new ServiceCredentialsMissingError(), 503, "UNAVAILABLE"],
      [new TailorError(Code.NOT_FOUND, "package gone"), 404, "NOT_FOUND"],
      [new TailorError(Code.UNAVAILABLE, "catalog down"), 503, "UNAVAILABLE"],
      [new TailorError(Code.RESOURCE_EXHAUSTED, "slow down"), 429, "RESOURCE_EXHAUSTED"],
      [
        Object.assign(new Error("Unsupported Media Type"), { statusCode: 415 }),
        415,
        "INVALID_ARGUMENT",
      ],
      [new Error("disk on fire"), 500, "INTERNAL"],
      [new TailorError(Code.INTERNAL, "stack trace"), 500, "INTERNAL"],
    ];
    for (const [error, status, code] of cases) {
      const answer = apkErrorOf(request, error);
      expect([answer.status, answer.code], String(error)).toEqual([status, code]);
    }
    expect(apkErrorOf(request, new Error("disk on fire")).message).not.toContain("disk");
    expect(
      apkErrorOf(request, new TailorError(Code.INTERNAL, "stack trace")).message,
    ).not.toContain("stack");
    expect(apkErrorOf(request, new TailorError(Code.NOT_FOUND, "package gone")).message).toBe(
      "package gone",
    );
  });
});
