import { describe, expect, it } from "vitest";
import { Code } from "./code.js";
import { InvalidFieldError } from "./invalid-field-error.js";
import { mapErrors } from "./map-errors.js";
import { TailorError } from "./tailor-error.js";

class NotThereError extends Error {
  override readonly name = "NotThereError";
}

const toStatus = (error: unknown): unknown =>
  error instanceof NotThereError
    ? new TailorError(Code.NOT_FOUND, error.message, { cause: error })
    : error;

describe("mapErrors", () => {
  it("returns what the work returns", async () => {
    await expect(mapErrors(async () => 42, toStatus)).resolves.toBe(42);
  });

  it("rethrows a domain error as the status toStatus maps it to", async () => {
    const failure = await mapErrors(async () => {
      throw new NotThereError('package "curl" not found');
    }, toStatus).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TailorError);
    expect(failure).toMatchObject({ code: Code.NOT_FOUND, message: 'package "curl" not found' });
    expect((failure as TailorError).cause).toBeInstanceOf(NotThereError);
  });

  it("rethrows an error toStatus does not know unchanged", async () => {
    const original = new RangeError("out of range");
    await expect(
      mapErrors(async () => {
        throw original;
      }, toStatus),
    ).rejects.toBe(original);
  });

  it("turns an InvalidFieldError no service mapped into INVALID_ARGUMENT naming the field", async () => {
    const failure = await mapErrors(async () => {
      throw new InvalidFieldError("packages[2]", 'packages[2] "curl>>1" is not a valid atom');
    }, toStatus).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TailorError);
    expect(failure).toMatchObject({
      code: Code.INVALID_ARGUMENT,
      field: "packages[2]",
      reason: "invalid_field",
      message: 'packages[2] "curl>>1" is not a valid atom',
    });
  });
});
