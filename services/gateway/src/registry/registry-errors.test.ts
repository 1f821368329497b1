import { BlobNotFoundError } from "@tailor/blob";
import { Code, TailorError } from "@tailor/grpc";
import type { FastifyRequest } from "fastify";
import { describe, expect, it, vi } from "vitest";
import { RegistryErrorCode, registryErrorOf } from "./registry-errors.js";

/** A request whose log calls are recorded. */
function fakeRequest() {
  const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn() };
  return { request: { id: "req-1", log } as unknown as FastifyRequest, log };
}

describe("registry errors", () => {
  it.each([Code.UNAUTHENTICATED, Code.PERMISSION_DENIED])(
    "answers a refusal of the gateway's own service identity (code %s) 503 and logs it",
    (code) => {
      const { request, log } = fakeRequest();
      const error = registryErrorOf(request, new TailorError(code, "token expired"));
      expect(error.status).toBe(503);
      expect(error.code).toBe(RegistryErrorCode.unavailable);
      expect(error.message).toMatch(/service identity/);
      expect(error.message).not.toContain("token expired");
      expect(error.headers).toMatchObject({ "retry-after": expect.any(String) });
      expect(log.error).toHaveBeenCalledOnce();
    },
  );

  it("keeps the answers of other call failures and of blobs gone from the store", () => {
    const { request } = fakeRequest();
    const missing = registryErrorOf(
      request,
      new TailorError(Code.NOT_FOUND, "manifest latest not found", {
        reason: "manifest_not_found",
      }),
    );
    expect([missing.status, missing.code]).toEqual([404, RegistryErrorCode.manifestUnknown]);
    const gone = registryErrorOf(request, new BlobNotFoundError(`sha256:${"a".repeat(64)}`));
    expect([gone.status, gone.code]).toEqual([404, RegistryErrorCode.blobUnknown]);
    const internal = registryErrorOf(request, new TailorError(Code.INTERNAL, "secret detail"));
    expect(internal.status).toBe(500);
    expect(internal.message).not.toContain("secret detail");
  });
});
