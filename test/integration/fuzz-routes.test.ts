import fc from 'fast-check';
import { openDeployment, type Deployment } from './deployment';

jest.setTimeout(240_000);

let deployment: Deployment;
let token: string;
let adminToken: string;

beforeAll(async () => {
  deployment = await openDeployment();
  token = await deployment.token({ oemId: 'fuzz-oem' });
  adminToken = await deployment.token({ oemId: 'fuzz-oem', admin: true });
});
afterAll(() => deployment?.stop());

/** Characters of the IAP grammar, separators and troublemakers, for paths that reach deep into the parser. */
const GRAMMAR = ['*', '+', '=', '!', '<', '>', '&', '|', '(', ')', '^', '$', '.', '%', '%7C', '%2', '%zz', '%00', '\u0000', 'é', '😀', '..', 'name', 'tag', 'utc', 'timestamp', 'log_level_1', '2022-03-29T00:00Z', '[', ']', '{', '}', '\\', '?', '#', ' '];

const element = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom(...GRAMMAR), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.constantFrom('*', '*+name==x', '*+name=+^(a)|(b)', '*+tag==log_level_1&utc=>2022-03-29T00:00Z', '0', 'device', 'x'.repeat(2000), `(${'a+'.repeat(100)})+$`),
);

/** A path element as a client would put it in a URL: percent-encoded, or raw where the URL allows it. */
const encoded = element.chain((text) => fc.constantFrom(encodeURIComponent(text), text.replace(/[^\w*+=!&|()^$.\-~]/gu, (c) => encodeURIComponent(c))));

const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(fc.constantFrom('pg', 'sz', 'xs', 'x', 'pg[]'), fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 }), fc.constant('-1'), fc.constant('1e9')), { maxKeys: 3 })
    .map((q) => (Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : '')),
);

const deepJson = fc.integer({ min: 100, max: 50_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"interval": 1e400}', '{"retention": -0}', '"always"', 'null', '[]', '{"root": {"level1": {"interval": "60"}}}', '\u0000', '{"__proto__": {"x": 1}}'),
  deepJson,
);

const LOGS = (p: string[]) => `/iap/devs/${p[0]}/if/${p[1]}/${p[2]}/${p[3]}/logs`;
const ROUTES: Array<{ name: string; methods: string[]; path: fc.Arbitrary<string> }> = [
  { name: 'logs', methods: ['GET', 'PUT'], path: fc.tuple(encoded, encoded, encoded, encoded).map(LOGS) },
  { name: 'logs setting', methods: ['GET', 'PUT', 'DELETE'], path: fc.tuple(fc.tuple(encoded, encoded, encoded, encoded), fc.oneof(encoded, fc.constantFrom('1', '2', '3', 'minDeltaValue', 'minDeltaTime'))).map(([p, s]) => `${LOGS(p)}/${s}`) },
  { name: 'values', methods: ['GET', 'DELETE'], path: fc.tuple(fc.tuple(encoded, encoded, encoded, encoded), encoded).map(([p, v]) => `${LOGS(p)}/value/${v}`) },
  { name: 'credentials', methods: ['GET'], path: encoded.map((oem) => `/oems/${oem}/data-export/credentials`) },
  { name: 'credentials refresh', methods: ['POST'], path: encoded.map((oem) => `/oems/${oem}/data-export/credentials/refresh`) },
];

describe.each(ROUTES)('fuzzing $name', ({ methods, path }) => {
  it('never answers 5xx; every error is JSON with a message', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), path, query, body, fc.boolean(), async (method, p, q, b, admin) => {
        let url: URL;
        try {
          url = new URL(`${deployment.apiUrl}${p}${q}`);
        } catch {
          return; // not a URL a client could send
        }
        const response = await fetch(url, {
          method,
          headers: { authorization: `Bearer ${admin ? adminToken : token}`, 'content-type': 'application/json' },
          ...(b !== undefined && method !== 'GET' && method !== 'DELETE' ? { body: b } : {}),
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) throw new Error(`${method} ${url.pathname}${url.search} → ${response.status} ${text.slice(0, 300)}`);
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as { message?: unknown };
          expect(typeof parsed.message).toBe('string');
        }
      }),
      { numRuns: 120 },
    );
    // The inputs reached the handlers: some were refused as malformed, some were answered.
    expect([...statuses.keys()].some((s) => s === 400 || s === 403)).toBe(true);
    expect([...statuses.keys()].some((s) => s < 300 || s === 404)).toBe(true);
  });
});
