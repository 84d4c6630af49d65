import fc from 'fast-check';
import { openDeployment, type Deployment } from './deployment';

jest.setTimeout(240_000);

let deployment: Deployment;

beforeAll(async () => {
  deployment = await openDeployment();
});
afterAll(() => deployment?.stop());

/** Characters of the IAP grammar, separators and troublemakers, for paths that reach deep into the parser. */
const GRAMMAR = ['*', '+', '=', '!', '<', '>', '&', '|', '(', ')', '^', '$', '.', '%', '%7C', '%2', '%zz', '%00', '\u0000', 'é', '😀', '..', 'name', 'tag', 'utc', 'timestamp', 'log_level_1', '2022-03-29T00:00Z', '[', ']', '{', '}', '\\', '?', '#', ' '];

/** Numbers at and past the edges of what JSON, JavaScript and DynamoDB hold. */
const NUMERIC_EXTREMES = [
  '1e-131', '5e-324', '1e400', '-1e400', '-0', '1e126', '-1e126', '9.99e125', '1e-130', '123456789012345678901234567890123456789',
  '9007199254740993', '-9007199254740993', '1e20', '0.1e-129', '4.9e-324', '1.7976931348623157e308',
];

const element = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.array(fc.constantFrom(...GRAMMAR), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.constantFrom('*', '*+name==x', '*+name=+^(a)|(b)', '*+tag==log_level_1&utc=>2022-03-29T00:00Z', '0', 'device', 'x'.repeat(2000), `(${'a+'.repeat(100)})+$`),
  // Numeric extremes in literals and conditions (block indexes, value ids, values).
  fc.tuple(fc.constantFrom('', '*+value<', '*+value==', '*+id>', '*+id==', '*+index==', '*+index<', '*+name=='), fc.constantFrom(...NUMERIC_EXTREMES)).map(([prefix, n]) => prefix + n),
);

/** A path element as a client would put it in a URL: percent-encoded, or raw where the URL allows it. */
const encoded = element.chain((text) => fc.constantFrom(encodeURIComponent(text), text.replace(/[^\w*+=!&|()^$.\-~]/gu, (c) => encodeURIComponent(c))));

/** Things that look like a next-page token (`c1_<snapshot>_<page>_<size>_<at>_<id>_<address>`), made up. */
const tokenLike = fc.array(fc.oneof(fc.nat().map((n) => n.toString(36)), fc.constantFrom('-1', 'zzzzzzzzzzzz', '0', '')), { minLength: 1, maxLength: 8 }).map((parts) => `c1_${parts.join('_')}`);

const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(
    fc.constantFrom('pg', 'sz', 'xs', 'x', 'pg[]'),
    fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 }), fc.constant('-1'), fc.constant('1e9'), fc.constantFrom(...NUMERIC_EXTREMES), tokenLike),
    { maxKeys: 3 },
  ).map((q) => (Object.keys(q).length ? `?${new URLSearchParams(q).toString()}` : '')),
);

const deepJson = fc.integer({ min: 100, max: 50_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
/** A configuration body with a numeric extreme where a number goes (written as JSON text: 1e400 has no JavaScript form). */
const extremeBody = fc.tuple(
  fc.constantFrom('$', '{"retention": $}', '{"interval": $}', '{"logMultiple": $}', '{"minDeltaValue": $}', '{"minDeltaTime": $}', '"$"',
    '{"level2": {"retention": $, "interval": 0}}', '{"root": {"minDeltaTime": $, "minDeltaValue": $}}', '{"level1": {"retention": 1}, "minDeltaValue": $}'),
  fc.constantFrom(...NUMERIC_EXTREMES),
).map(([template, n]) => template.replaceAll('$', n));
/** Unknown fields beside known ones: long names, many of them. */
const unknownFields = fc.tuple(fc.constantFrom('{"minDeltaValue": 1, #}', '{"minDeltaTime": 1, #}', '{"root": {"minDeltaTime": 1}, #}', '{"interval": 1, #}', '{#}'), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 30 }))
  .map(([template, length, count]) => template.replace('#', Array.from({ length: count }, (_, i) => `"${String(i).padStart(length, 'k')}": ${i}`).join(', ')));
const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{"interval": 1e400}', '{"retention": -0}', '"always"', 'null', '[]', '{"root": {"level1": {"interval": "60"}}}', '\u0000', '{"__proto__": {"x": 1}}'),
  deepJson,
  extremeBody,
  unknownFields,
);

const LOGS = (p: string[]) => `/iap/devs/${p[0]}/if/${p[1]}/${p[2]}/${p[3]}/logs`;
const ROUTES: Array<{ name: string; methods: string[]; path: fc.Arbitrary<string> }> = [
  { name: 'logs', methods: ['GET', 'PUT'], path: fc.tuple(encoded, encoded, encoded, encoded).map(LOGS) },
  { name: 'logs setting', methods: ['GET', 'PUT', 'DELETE'], path: fc.tuple(fc.tuple(encoded, encoded, encoded, encoded), fc.oneof(encoded, fc.constantFrom('1', '2', '3', 'minDeltaValue', 'minDeltaTime'))).map(([p, s]) => `${LOGS(p)}/${s}`) },
  { name: 'values', methods: ['GET', 'DELETE'], path: fc.tuple(fc.tuple(encoded, encoded, encoded, encoded), encoded).map(([p, v]) => `${LOGS(p)}/value/${v}`) },
  { name: 'credentials', methods: ['GET'], path: encoded.map((oem) => `/oems/${oem}/data-export/credentials`) },
  { name: 'credentials refresh', methods: ['POST'], path: encoded.map((oem) => `/oems/${oem}/data-export/credentials/refresh`) },
  { name: 'jobs', methods: ['GET'], path: fc.oneof(encoded, fc.stringMatching(/^[0-9a-f]{24}$/)).map((id) => `/iap/jobs/${id}`) },
];

describe.each(ROUTES)('fuzzing $name', ({ name, methods, path }) => {
  it('never answers 5xx; every error is JSON with a message', async () => {
    // An OEM of its own per route: its requests stay within one OEM's rate limit (200 per 10 s by default), so
    // they reach the handlers however fast the machine sends them.
    const oemId = `fuzz-${name.replace(/\W+/g, '-')}`;
    const token = await deployment.token({ oemId });
    const adminToken = await deployment.token({ oemId, admin: true });
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

describe('huge bodies', () => {
  const KB = 1024;
  const MB = 1024 * KB;
  const BODIES: Array<[string, () => string]> = [
    ['a 7 MB unknown field name', () => `{"${'k'.repeat(7 * MB)}": 1}`],
    ['a 5 MB unknown field name beside a valid setting', () => `{"minDeltaValue": 1, "${'k'.repeat(5 * MB)}": 1}`],
    ['a 9 MB padding beside a valid setting', () => `{"minDeltaValue": 1, "pad": "${'x'.repeat(9 * MB)}"}`],
    ['a 63 KB unknown field name (under the body limit)', () => `{"${'k'.repeat(63 * KB)}": 1}`],
    ['6,000 unknown fields', () => `{${Array.from({ length: 6_000 }, (_, i) => `"f${i}": ${i}`).join(', ')}}`],
    ['a 60 KB string as the value', () => `"${'9'.repeat(60 * KB)}"`],
    ['a 60 KB number', () => `1${'0'.repeat(60 * KB)}`],
  ];
  const PATHS = ['/iap/devs/FZ1/if/device/0/x/logs', '/iap/devs/FZ1/if/device/0/x/logs/1', '/iap/devs/FZ1/if/device/0/x/logs/minDeltaValue', '/iap/devs/*/if/*/*/*/logs/minDeltaTime'];

  it.each(BODIES)('never answers 5xx to %s; errors are short JSON', async (_what, make) => {
    const token = await deployment.token({ oemId: 'fuzz-bodies' });
    const text = make();
    for (const path of PATHS) {
      const response = await fetch(`${deployment.apiUrl}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: text });
      const reply = await response.text();
      expect({ path, status: response.status < 500 ? '<500' : response.status }).toEqual({ path, status: '<500' });
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/application\/json/);
        expect(typeof (JSON.parse(reply) as { message?: unknown }).message).toBe('string');
        expect(reply.length).toBeLessThan(1000);
      }
    }
  });
});
