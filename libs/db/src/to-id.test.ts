import { describe, expect, it } from "vitest";
import { DatabaseError, toId } from "./index.js";

describe("toId", () => {
  it("turns strings, numbers and bigints into the same decimal string", () => {
    expect(toId("42")).toBe("42");
    expect(toId(42)).toBe("42");
    expect(toId(42n)).toBe("42");
    expect(toId(9007199254740993n)).toBe("9007199254740993");
  });

  it("refuses numbers that cannot be exact ids", () => {
    expect(() => toId(1.5)).toThrow(DatabaseError);
    expect(() => toId(2 ** 60)).toThrow(/not a safe integer/);
  });
});
