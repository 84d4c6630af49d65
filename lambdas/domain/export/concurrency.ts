/**
 * S3 requests one planner run or compaction task keeps in flight. At 25 ms a request, a task's ranged GETs
 * take (staged objects / this) × 25 ms: at 10M devices (~10,000 staged objects a window) 5 s at 50, 33 s at
 * 8. 50 is the SDK's default socket limit per host, so more would only queue in the client.
 */
export const READS_IN_FLIGHT = 50;

/**
 * `fn` over `items` with at most `limit` calls in flight; results in the order of `items`. The first
 * failure is thrown once every started call has settled, so no write is left running unobserved.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}
