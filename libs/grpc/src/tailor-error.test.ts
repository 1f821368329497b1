import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Code, TailorError } from "./index.js";
import { ERROR_DETAIL_TRAILER, encodeErrorDetail } from "./tailor-error.js";

describe("TailorError.from", () => {
  it("passes a TailorError through unchanged", () => {
    const error = new TailorError(Code.NOT_FOUND, "missing", { reason: "gone" });
    expect(TailorError.from(error)).toBe(error);
  });

  it("reads code, details and the ErrorDetail trailer of a grpc-js ServiceError", () => {
    const metadata = new Metadata();
    const detail = encodeErrorDetail(
      new TailorError(Code.FAILED_PRECONDITION, "x", {
        reason: "version_conflict",
        field: "packages[2]",
        metadata: { package: "busybox" },
      }),
    );
    metadata.set(ERROR_DETAIL_TRAILER, Buffer.from(detail!));
    const serviceError = Object.assign(new Error("9 FAILED_PRECONDITION: no version fits"), {
      code: status.FAILED_PRECONDITION,
      details: "no version fits",
      metadata,
    });

    const error = TailorError.from(serviceError);

    expect(error).toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: "no version fits",
      reason: "version_conflict",
      field: "packages[2]",
      metadata: { package: "busybox" },
    });
  });

  it("keeps the code and message when the trailer is garbled", () => {
    const metadata = new Metadata();
    metadata.set(ERROR_DETAIL_TRAILER, Buffer.from([0xff, 0xff, 0xff]));
    const serviceError = Object.assign(new Error("x"), {
      code: status.UNAVAILABLE,
      details: "down",
      metadata,
    });
    expect(TailorError.from(serviceError)).toMatchObject({
      code: Code.UNAVAILABLE,
      message: "down",
    });
  });

  it("maps aborts to CANCELLED and timeouts to DEADLINE_EXCEEDED", () => {
    const aborted = new AbortController();
    aborted.abort();
    expect(TailorError.from(aborted.signal.reason).code).toBe(Code.CANCELLED);
    expect(TailorError.from(new DOMException("timed out", "TimeoutError")).code).toBe(
      Code.DEADLINE_EXCEEDED,
    );
  });

  it("unwraps an AbortError whose cause is a TailorError", () => {
    const reason = new TailorError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
    const abortError = Object.assign(new Error("The operation was aborted"), {
      name: "AbortError",
      cause: reason,
    });
    expect(TailorError.from(abortError)).toBe(reason);
  });

  it("turns anything else into INTERNAL, keeping the message and the original as cause", () => {
    const original = new RangeError("index out of range");
    const error = TailorError.from(original);
    expect(error).toMatchObject({ code: Code.INTERNAL, message: "index out of range" });
    expect(error.cause).toBe(original);
    expect(TailorError.from("plain string").message).toBe("plain string");
  });

  it("leaves reason and field undefined when empty", () => {
    const error = new TailorError(Code.INVALID_ARGUMENT, "bad", { reason: "", field: "" });
    expect(error.reason).toBeUndefined();
    expect(error.field).toBeUndefined();
    expect(error.name).toBe("TailorError");
    expect(encodeErrorDetail(error)).toBeUndefined();
  });

  it("uses the same numbers as grpc-js status", () => {
    for (const [name, value] of Object.entries(Code)) {
      expect(status[name as keyof typeof status]).toBe(value);
    }
  });
});
