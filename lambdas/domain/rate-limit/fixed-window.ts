/**
 * Per-OEM API rate limits as fixed windows: each OEM may make `requests` requests per window of
 * `windowSeconds` (windows start at multiples of it since the epoch); one counter per OEM and window.
 */

export interface RateLimit {
  requests: number;
  windowSeconds: number;
}

/** Defaults when the stack sets none: 20 requests/s per OEM, counted over 10 s windows. */
export const DEFAULT_RATE_LIMIT: RateLimit = { requests: 200, windowSeconds: 10 };

/** Counters of requests per OEM and window: the count after this request. */
export interface RequestCounter {
  /** Adds one to the counter `key` (created at 1, removed by itself after `expiresAt`, epoch seconds); returns the new count. */
  increment(key: string, expiresAt: number): Promise<number>;
}

export interface Window {
  /** The window's number since the epoch. */
  index: number;
  /** Whole seconds until the next window starts (at least 1). */
  secondsLeft: number;
}

export function windowAt(now: number, windowSeconds: number): Window {
  const length = windowSeconds * 1000;
  const index = Math.floor(now / length);
  return { index, secondsLeft: Math.max(1, Math.ceil(((index + 1) * length - now) / 1000)) };
}

export type Verdict = { allowed: true; count: number } | { allowed: false; count: number; retryAfterSeconds: number };

/** Counts this request of `oemId` and says whether it is within the limit; past it, when to retry. */
export async function countRequest(counter: RequestCounter, limit: RateLimit, oemId: string, now: number): Promise<Verdict> {
  const window = windowAt(now, limit.windowSeconds);
  // The counter outlives its window by a minute: TTL deletes late anyway, and a late delete is harmless.
  const expiresAt = Math.ceil(now / 1000) + window.secondsLeft + 60;
  const count = await counter.increment(`${encodeURIComponent(oemId)}#${limit.windowSeconds}#${window.index}`, expiresAt);
  return count <= limit.requests ? { allowed: true, count } : { allowed: false, count, retryAfterSeconds: window.secondsLeft };
}
