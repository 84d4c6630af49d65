import { openDeployment, type Deployment } from './deployment';
import { call, logsPath, uniqueOem } from './iap-helpers';

/**
 * Per-OEM rate limits through the HTTP API: past the limit 429 with Retry-After and a JSON error body,
 * another OEM unaffected. The embedded local cloud runs with {@link RATE_LIMIT} requests per hour-long
 * window, so the check does not depend on how fast the machine answers: a burst spans at most two
 * windows, so more than twice the limit is refused in part whatever the timing. Against another
 * deployment (PIPELINE_OUTPUTS) give it the same context: `oemRateLimitRequests=20 oemRateLimitWindowSeconds=3600`.
 */

jest.setTimeout(300_000);

const RATE_LIMIT = 20;
const WINDOW_SECONDS = 3600;

let deployment: Deployment;

beforeAll(async () => {
  deployment = await openDeployment({ context: { oemRateLimitRequests: RATE_LIMIT, oemRateLimitWindowSeconds: WINDOW_SECONDS } });
});

afterAll(async () => {
  await deployment?.stop();
});

describe('per-OEM rate limits', () => {
  it(`past ${RATE_LIMIT} requests in a window an OEM gets 429 with Retry-After and a JSON error; another OEM is unaffected`, async () => {
    const busy = { token: await deployment.token({ oemId: uniqueOem('rate-busy') }) };
    const calm = { token: await deployment.token({ oemId: uniqueOem('rate-calm') }) };
    const path = logsPath('*', '*', '*', '*');
    // Two windows hold at most 2 × RATE_LIMIT: more than that is refused in part in any case.
    const replies = await Promise.all(Array.from({ length: 2 * RATE_LIMIT + 10 }, async () => {
      const response = await fetch(`${deployment.apiUrl}${path}`, { headers: { authorization: `Bearer ${busy.token}` } });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: JSON.parse(await response.text()) as unknown };
    }));
    expect(replies.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(10);
    for (const r of refused) {
      expect(r.body).toEqual({ code: 'TooManyRequests', message: expect.stringContaining(`more than ${RATE_LIMIT} requests`) });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(WINDOW_SECONDS);
    }
    expect((await call(deployment, 'GET', path, calm.token)).status).toBe(200);
  });
});
