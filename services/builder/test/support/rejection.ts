import { TailorError } from "@tailor/grpc";

/** The TailorError a call failed with; fails the test when it succeeded or threw something else. */
export async function rejection(call: Promise<unknown>): Promise<TailorError> {
  const outcome = await call.then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error("expected the call to fail, it succeeded");
  if (!(outcome.error instanceof TailorError)) throw outcome.error;
  return outcome.error;
}
