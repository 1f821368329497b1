/**
 * Runs a handler body and rethrows what it throws through `toStatus`: the one
 * try/catch of a service's handler edge, where domain errors become gRPC statuses.
 */
export async function mapErrors<T>(
  work: () => Promise<T>,
  toStatus: (error: unknown) => unknown,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toStatus(error);
  }
}
