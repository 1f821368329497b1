import { TailorError } from "@tailor/grpc";

/** The TailorError a call failed with; fails the test when it succeeded or threw something else. */
export async function rejection(call: Promise<unknown>): Promise<TailorError> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok)
    throw new Error(
      `expected the call to fail, it returned ${JSON.stringify(outcome.value, bigintSafe)}`,
    );
  if (!(outcome.error instanceof TailorError)) throw outcome.error;
  return outcome.error;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
