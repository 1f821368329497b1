/** Bounded concurrency for independent asynchronous steps. */

/**
 * `fn` applied to every item with at most `limit` calls running at once;
 * results in the order of `items`. After a failure no new call starts; once
 * the running ones settle, the failure of the earliest item is thrown (so
 * the error reported does not depend on timing).
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const failures: { index: number; error: unknown }[] = [];
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) {
    throw failures.reduce((first, failure) => (failure.index < first.index ? failure : first))
      .error;
  }
  return results;
}
