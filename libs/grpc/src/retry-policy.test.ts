import { describe, expect, it } from "vitest";
import { Code } from "./index.js";
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelayMs } from "./retry-policy.js";

const farDeadline = () => new Date(Date.now() + 60_000);

describe("retryDelayMs", () => {
  it("doubles the backoff bound per attempt up to maxBackoffMs, with full jitter", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 10 };
    const atMost = (attempt: number) =>
      retryDelayMs(policy, attempt, Code.UNAVAILABLE, farDeadline(), () => 0.999_999);
    expect(atMost(1)).toBeCloseTo(50);
    expect(atMost(2)).toBeCloseTo(100);
    expect(atMost(3)).toBeCloseTo(200);
    expect(atMost(9)).toBeCloseTo(2000);
    expect(retryDelayMs(policy, 3, Code.UNAVAILABLE, farDeadline(), () => 0)).toBe(0);
  });

  it("stops at maxAttempts, for codes not listed, and before the deadline", () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 3, Code.UNAVAILABLE, farDeadline())).toBeUndefined();
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 1, Code.INTERNAL, farDeadline())).toBeUndefined();
    const soon = new Date(Date.now() + 10);
    expect(
      retryDelayMs(DEFAULT_RETRY_POLICY, 1, Code.UNAVAILABLE, soon, () => 0.9),
    ).toBeUndefined();
  });

  it("fills partial policies from the defaults; false allows one attempt", () => {
    expect(resolveRetryPolicy({ maxAttempts: 5 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: 5,
    });
    expect(resolveRetryPolicy(false).maxAttempts).toBe(1);
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY);
  });
});
