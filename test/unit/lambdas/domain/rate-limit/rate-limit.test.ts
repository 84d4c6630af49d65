import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { countRequest, windowAt, type RequestCounter } from '../../../../../lambdas/domain/rate-limit/fixed-window';
import { httpHandler, json } from '../../../../../lambdas/shared/http';
import { logger } from '../../../../../lambdas/shared/logger';
import { ApiRateLimiter, rateLimited } from '../../../../../lambdas/domain/rate-limit/limiter';
import { jwtEvent } from '../../events';

/** Per-OEM fixed-window limits: counted per OEM and window, 429 with Retry-After past the limit, open when the counter fails. */

class MemoryCounter implements RequestCounter {
  readonly counts = new Map<string, number>();
  readonly expiries = new Map<string, number>();
  failing = false;

  async increment(key: string, expiresAt: number): Promise<number> {
    if (this.failing) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    this.expiries.set(key, expiresAt);
    return n;
  }
}

const T0 = Date.parse('2026-03-01T12:00:00Z');

describe('windowAt', () => {
  it('numbers windows since the epoch and counts whole seconds to the next one (at least 1)', () => {
    expect(windowAt(T0, 10)).toEqual({ index: T0 / 10_000, secondsLeft: 10 });
    expect(windowAt(T0 + 2_500, 10)).toEqual({ index: T0 / 10_000, secondsLeft: 8 });
    expect(windowAt(T0 + 9_999, 10)).toEqual({ index: T0 / 10_000, secondsLeft: 1 });
    expect(windowAt(T0 + 10_000, 10).index).toBe(T0 / 10_000 + 1);
  });
});

describe('countRequest', () => {
  it('allows `requests` per window per OEM, then refuses until the next window; counters expire after their window', async () => {
    const counter = new MemoryCounter();
    const limit = { requests: 3, windowSeconds: 10 };
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await countRequest(counter, limit, 'oem-a', T0 + 4_000));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false, false]);
    expect(verdicts[3]).toEqual({ allowed: false, count: 4, retryAfterSeconds: 6 });
    expect(await countRequest(counter, limit, 'oem-b', T0 + 4_000)).toEqual({ allowed: true, count: 1 });
    expect(await countRequest(counter, limit, 'oem-a', T0 + 10_000)).toEqual({ allowed: true, count: 1 });
    for (const expiry of counter.expiries.values()) expect(expiry).toBeGreaterThan((T0 + 10_000) / 1000);
  });
});

describe('rateLimited route', () => {
  const context = {} as Context;
  const event = (oemId: string) => jwtEvent({ sub: 'u', 'custom:oem_id': oemId }, 'GET /iap/jobs/{id}');
  const route = async (): Promise<APIGatewayProxyStructuredResultV2> => json(200, { ok: true });

  it('answers 429 with Retry-After and a JSON error past the limit; another OEM is unaffected', async () => {
    const counter = new MemoryCounter();
    const handler = httpHandler(rateLimited(new ApiRateLimiter(counter, { requests: 2, windowSeconds: 60 }, () => T0 + 15_000), route));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await handler(event('oem-a'), context)).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await handler(event('oem-a'), context);
    expect(refused.headers).toEqual({ 'content-type': 'application/json', 'retry-after': '45' });
    expect(JSON.parse(refused.body!)).toEqual({ code: 'TooManyRequests', message: expect.stringContaining('more than 2 requests in 60 s') });
    expect((await handler(event('oem-b'), context)).statusCode).toBe(200);
  });

  it('fails open with a WARN: a counter that cannot be reached lets the request through', async () => {
    const counter = new MemoryCounter();
    counter.failing = true;
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const handler = httpHandler(rateLimited(new ApiRateLimiter(counter, { requests: 1, windowSeconds: 60 }), route));
    for (let i = 0; i < 3; i++) expect((await handler(event('oem-a'), context)).statusCode).toBe(200);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(warn).toHaveBeenCalledWith('Rate limiter unavailable: request let through', { oemId: 'oem-a', error: 'TimeoutError' });
    warn.mockRestore();
  });

  it('does not count a request without a caller: the route answers it (401) as before', async () => {
    const counter = new MemoryCounter();
    const handler = httpHandler(rateLimited(new ApiRateLimiter(counter, { requests: 1, windowSeconds: 60 }), async (e) => {
      if (!e.requestContext.authorizer?.jwt) return json(401, { code: 'Unauthorized', message: 'no token' });
      return route();
    }));
    const anonymous = { ...event('x'), requestContext: { ...event('x').requestContext, authorizer: undefined } } as unknown as ReturnType<typeof event>;
    expect((await handler(anonymous, context)).statusCode).toBe(401);
    expect(counter.counts.size).toBe(0);
  });
});
