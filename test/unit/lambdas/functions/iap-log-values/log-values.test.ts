import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { condition, parseSelector, type Condition } from '../../../../../lambdas/domain/iap/address';
import { DEFAULT_CONFIG, type LogConfig } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import { refId, valueSortKey } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { MAX_QUERY_LIMIT } from '../../../../../lambdas/domain/datapoint-logs/value-reads';
import type { DatapointLogStores } from '../../../../../lambdas/domain/datapoint-logs/ports';
import {
  valueId, type DatapointRecord, type DatapointRef, type DatapointScope, type DeviceRecord, type StoredValue, type TimeRange,
} from '../../../../../lambdas/domain/datapoint-logs/records';
import {
  handleLogValues, MAX_CONCURRENT_QUERIES, MAX_MERGED_DATAPOINTS, MAX_SEEK_VALUES, MAX_UNPAGED_VALUES, timeRangeOf,
} from '../../../../../lambdas/functions/iap-log-values/log-values';
import { HttpError } from '../../../../../lambdas/shared/http';
import { jwtEvent } from '../../events';

/**
 * The value routes' logic without AWS: `timeRangeOf` (which key range a query reads) and
 * `handleLogValues` over in-memory stores that count what is read, for what the local cloud makes
 * slow to reach (10,000 values) or cannot show (how much of the table a request reads).
 */

const T = (text: string) => Date.parse(text);
const S = 1000;
const DAY = 24 * 3600 * S;

describe('timeRangeOf', () => {
  const ts = (op: '==' | '!=' | '<' | '<=' | '>' | '=>' | '>=', value: string, key = 'timestamp') => condition('value_param', key, op, value) as Condition;
  const t = T('2022-03-29T00:00:00.000Z');

  it.each<[string, Condition, { from?: number; to?: number }]>([
    ['== is the one millisecond', ts('==', '2022-03-29T00:00Z'), { from: t, to: t }],
    ['> starts a millisecond after', ts('>', '2022-03-29T00:00Z'), { from: t + 1 }],
    ['=> starts at the time', ts('=>', '2022-03-29T00:00Z'), { from: t }],
    ['>= is =>', ts('>=', '2022-03-29T00:00Z'), { from: t }],
    ['< ends a millisecond before', ts('<', '2022-03-29T00:00Z'), { to: t - 1 }],
    ['<= ends at the time', ts('<=', '2022-03-29T00:00Z'), { to: t }],
    ['!= does not narrow (checked per value)', ts('!=', '2022-03-29T00:00Z'), {}],
    ['utc is timestamp', ts('=>', '2022-03-29', 'utc'), { from: t }],
    ['milliseconds are kept', ts('<=', '2022-03-29T00:00:00.123Z'), { to: t + 123 }],
  ])('%s', (_, c, range) => {
    expect(timeRangeOf([c])).toEqual(range);
  });

  it('intersects several bounds: the latest lower, the earliest upper', () => {
    expect(timeRangeOf([ts('>', '2022-03-01'), ts('=>', '2022-03-05'), ts('<', '2022-03-20'), ts('<=', '2022-03-10')]))
      .toEqual({ from: T('2022-03-05'), to: T('2022-03-10') });
    expect(timeRangeOf([ts('=>', '2022-03-05'), ts('>', '2022-03-01')])).toEqual({ from: T('2022-03-05') });
    expect(timeRangeOf([ts('<=', '2022-03-10'), ts('<', '2022-03-20')])).toEqual({ to: T('2022-03-10') });
    expect(timeRangeOf([ts('==', '2022-03-05'), ts('<', '2022-03-20'), ts('!=', '2022-03-06')])).toEqual({ from: T('2022-03-05'), to: T('2022-03-05') });
  });

  it('gives an empty range (from > to) for bounds that cannot both hold, rather than dropping one', () => {
    const range = timeRangeOf([ts('>', '2022-03-10'), ts('<', '2022-03-05')]);
    expect(range).toEqual({ from: T('2022-03-10') + 1, to: T('2022-03-05') - 1 });
    expect(timeRangeOf([ts('==', '2022-03-05'), ts('==', '2022-03-06')])).toEqual({ from: T('2022-03-06'), to: T('2022-03-05') });
  });

  it('ignores conditions that are not on time (id, value, tag), and no conditions read everything', () => {
    expect(timeRangeOf([])).toEqual({});
    expect(timeRangeOf([condition('value_param', 'id', '>', '5') as Condition, condition('value_param', 'value', '<', '3') as Condition, condition('value_param', 'tag', '==', 'log_level_1') as Condition])).toEqual({});
  });

  it('reads the conditions of a parsed path element, the datapoint element\'s as well', () => {
    const valueParam = parseSelector('value_param', '*+utc%3E2022-03-29T00:00Z&timestamp<=2022-03-30&id>3');
    expect(valueParam.kind).toBe('query');
    expect(timeRangeOf(valueParam.kind === 'query' ? valueParam.conditions : [])).toEqual({ from: t + 1, to: T('2022-03-30') });
    const datapoint = parseSelector('datapoint_name', '*+name==nvoEnergy&utc=>2022-03-29&utc<2022-03-29T12:00Z');
    expect(timeRangeOf(datapoint.kind === 'query' ? datapoint.conditions : [])).toEqual({ from: t, to: t + 12 * 3600 * S - 1 });
  });
});

// ---- handleLogValues over in-memory stores --------------------------------------------------------

const OEM = 'oem-unit';
const NOW = T('2026-03-01T12:00:00Z');
const ROUTE = 'GET /iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs/value/{value_param}';
const KEEP: LogConfig = { ...DEFAULT_CONFIG, levels: [{ interval: 0, retention: 1, logMultiple: null }, { interval: 0, retention: 0, logMultiple: null }, { interval: 0, retention: 0, logMultiple: null }] };

function request(method: 'GET' | 'DELETE', params: { id?: string; block?: string; block_index?: string; datapoint_name?: string; value_param?: string }, query?: Record<string, string>, oemId = OEM): APIGatewayProxyEventV2WithJWTAuthorizer {
  const event = jwtEvent({ sub: 'user-1', 'custom:oem_id': oemId }, ROUTE.replace('GET', method));
  return {
    ...event,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method } },
    pathParameters: { id: '*', block: '*', block_index: '*', datapoint_name: '*', value_param: '*', ...params },
    ...(query ? { queryStringParameters: query } : {}),
  };
}

interface Fake {
  stores: DatapointLogStores;
  /** Values handed out by the value store, per datapoint name. */
  read: Map<string, number>;
  ranges: TimeRange[];
  deleted: Array<{ ref: DatapointRef; value: StoredValue }>;
  /** Value queries made, and the most that were in flight at once. */
  queries: { count: number; inFlight: number; maxInFlight: number };
}

/**
 * A registry holding `datapoints` of OEM `OEM` (each with its values, in time order), and a value
 * store that answers one query at a time within the range asked for, as DynamoDB would: a range whose
 * lower bound is above its upper one is refused as DynamoDB refuses such a BETWEEN. Each query takes a
 * turn of the event loop, so queries made at once are in flight together.
 */
function fakeStores(datapoints: Array<{ record: DatapointRecord; values: StoredValue[] }>): Fake {
  const read = new Map<string, number>();
  const ranges: TimeRange[] = [];
  const deleted: Array<{ ref: DatapointRef; value: StoredValue }> = [];
  const queries = { count: 0, inFlight: 0, maxInFlight: 0 };
  const byRef = new Map(datapoints.map((d) => [refId(d.record), d]));
  const registry = {
    async *queryDatapoints(oemId: string, scope: DatapointScope) {
      if (oemId !== OEM) return;
      for (const { record } of datapoints) {
        if (scope.dsn !== undefined && record.dsn !== scope.dsn) continue;
        if (scope.name !== undefined && record.name !== scope.name) continue;
        yield record;
      }
    },
    async getDevices(_oemId: string, dsns: readonly string[]) {
      return new Map(dsns.map((dsn): [string, DeviceRecord] => [dsn, { dsn, state: 'provisioned', health: 'normal' }]));
    },
  };
  /** One query: up to `limit` values within `range` after the sort key `after`. */
  async function query(oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string) {
    queries.count++;
    queries.inFlight++;
    queries.maxInFlight = Math.max(queries.maxInFlight, queries.inFlight);
    await new Promise((r) => setImmediate(r));
    queries.inFlight--;
    const from = range.from ?? 0;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    if (from > to) throw Object.assign(new Error('The BETWEEN operator requires upper bound to be greater than or equal to lower bound'), { name: 'ValidationException' });
    const entry = byRef.get(refId(ref));
    if (oemId !== OEM || !entry) return { values: [] as StoredValue[] };
    const page: StoredValue[] = [];
    let next: string | undefined;
    for (const value of entry.values) {
      if (value.at < from || value.at > to) continue;
      if (after !== undefined && valueSortKey(value.at, value.sequence) <= after) continue;
      if (page.length === limit) {
        next = valueSortKey(page[page.length - 1]!.at, page[page.length - 1]!.sequence);
        break;
      }
      page.push(value);
    }
    read.set(ref.name, (read.get(ref.name) ?? 0) + page.length);
    return next === undefined ? { values: page } : { values: page, next };
  }
  const values = {
    async valuePage(oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string) {
      ranges.push({ ...range });
      return query(oemId, ref, range, limit, after);
    },
    async deleteValues(_oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>) {
      deleted.push(...entries);
    },
  };
  return { stores: { registry, values } as unknown as DatapointLogStores, read, ranges, deleted, queries };
}

let nextDatapointId = 0;
/** A datapoint with `count` values, one every `stepMs` from `start`, all logged at level 1. */
function datapoint(name: string, count: number, start: number, stepMs = S, config: LogConfig = KEEP, dsn = 'D1') {
  const id = ++nextDatapointId;
  const record: DatapointRecord = { dsn, block: 'device', blockIndex: 0, name, id, registeredAt: start, config };
  const values: StoredValue[] = Array.from({ length: count }, (_, i) => ({
    id: valueId(id, i + 1), sequence: i + 1, at: start + i * stepMs, value: i, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal',
    expiresAt: Math.ceil((start + i * stepMs + DAY) / 1000),
    // Logged as it happened, for these tests.
    loggedAt: start + i * stepMs,
  }));
  return { record, values };
}

async function run(fake: Fake, event: APIGatewayProxyEventV2WithJWTAuthorizer, now = NOW): Promise<{ status: number; body: unknown }> {
  try {
    const reply = await handleLogValues(event, fake.stores, now);
    return { status: reply.statusCode ?? 200, body: reply.body ? JSON.parse(reply.body) : undefined };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.statusCode, body: { code: error.code, message: error.message } };
    throw error;
  }
}

describe('handleLogValues: the unpaged cap', () => {
  it('answers exactly MAX_UNPAGED_VALUES (10,000) values whole', async () => {
    expect(MAX_UNPAGED_VALUES).toBe(10_000);
    // Two datapoints, interleaved in time: the reply is one UTC-sorted list.
    const fake = fakeStores([datapoint('a', 5_000, NOW - 3 * 3600 * S, 2 * S), datapoint('b', 5_000, NOW - 3 * 3600 * S + S, 2 * S)]);
    const { status, body } = await run(fake, request('GET', {}));
    expect(status).toBe(200);
    const list = body as Array<{ utc: string; datapointName: string }>;
    expect(list).toHaveLength(10_000);
    expect(list.slice(0, 4).map((v) => v.datapointName)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('refuses one value more with 413 ReplyTooLarge asking to page, having read no more than a query past the cap', async () => {
    const fake = fakeStores([datapoint('a', 6_000, NOW - 5 * 3600 * S), datapoint('b', 20_000, NOW - 6 * 3600 * S)]);
    const { status, body } = await run(fake, request('GET', {}));
    expect(status).toBe(413);
    expect(body).toEqual({ code: 'ReplyTooLarge', message: expect.stringMatching(/pg=/) });
    expect(fake.read.get('a')! + fake.read.get('b')!).toBeLessThanOrEqual(MAX_UNPAGED_VALUES + 1 + 2 * MAX_QUERY_LIMIT);
  });

  it('does not count values past their retention toward the cap', async () => {
    // 3,000 values older than the one-day retention (the last 500 ms past it), then 10,000 within it.
    const old = datapoint('a', 13_000, NOW - DAY - 2_999 * S - 500);
    const fake = fakeStores([old]);
    const { status, body } = await run(fake, request('GET', {}));
    expect(status).toBe(200);
    expect(body).toHaveLength(10_000);
    expect((body as Array<{ id: number }>)[0]!.id).toBe(old.values[3_000]!.id);
  });

  it('answers a paged request over the same values, reading no more than the page asked for and one page ahead', async () => {
    const fake = fakeStores([datapoint('a', 20_000, NOW - 6 * 3600 * S), datapoint('b', 20_000, NOW - 6 * 3600 * S + 500)]);
    const { status, body } = await run(fake, request('GET', {}, { pg: '3', sz: '100' }));
    expect(status).toBe(200);
    const page = body as { snapshot: number; resources: Array<{ id: number }>; remainingPages: number };
    expect(page.snapshot).toBe(NOW);
    expect(page.resources).toHaveLength(100);
    expect(page.remainingPages).toBeGreaterThanOrEqual(1);
    for (const name of ['a', 'b']) expect(fake.read.get(name)!).toBeLessThanOrEqual(5 * 100);
  });
});

describe('handleLogValues: what is read', () => {
  const start = NOW - 3600 * S;

  it('reads only the key range of the time conditions, both elements\', and leaves out what was logged after the snapshot', async () => {
    const fake = fakeStores([datapoint('a', 100, start)]);
    const { status, body } = await run(fake, request('GET', {
      datapoint_name: '*+name==a&utc=>2026-03-01T11:00:10Z',
      value_param: '*+timestamp<2026-03-01T11:00:20Z&utc!=2026-03-01T11:00:15Z',
    }));
    expect(status).toBe(200);
    expect(fake.ranges).toEqual([{ from: start + 10 * S, to: start + 20 * S - 1 }]);
    expect((body as Array<{ value: number }>).map((v) => v.value)).toEqual([10, 11, 12, 13, 14, 16, 17, 18, 19]);

    const paged = fakeStores([datapoint('a', 100, start)]);
    const xs = String(start + 30 * S);
    const reply = await run(paged, request('GET', { value_param: '*+utc=>2026-03-01T11:00:10Z' }, { pg: '0', sz: '1000', xs }));
    expect(paged.ranges).toEqual([{ from: start + 10 * S }]);
    expect((reply.body as { snapshot: number; resources: unknown[] }).snapshot).toBe(Number(xs));
    expect((reply.body as { resources: unknown[] }).resources).toHaveLength(21);

    // Without time conditions the range still starts where the longest retention (here one day) keeps values.
    const unbounded = fakeStores([datapoint('a', 10, start)]);
    await run(unbounded, request('GET', {}));
    expect(unbounded.ranges).toEqual([{ from: NOW - DAY + 1 }]);
  });

  it('asks nothing of a datapoint with no active level (its values are hidden), nor of one a literal value id cannot be in', async () => {
    const off: LogConfig = { ...KEEP, levels: [{ interval: 0, retention: 0, logMultiple: null }, KEEP.levels[1], KEEP.levels[2]] };
    const fake = fakeStores([datapoint('a', 5, start, S, off)]);
    expect(await run(fake, request('GET', {}))).toEqual({ status: 200, body: [] });
    expect(fake.queries.count).toBe(0);
    const a = datapoint('a', 5, start);
    const b = datapoint('b', 5, start);
    const two = fakeStores([a, b]);
    expect((await run(two, request('GET', { value_param: String(b.values[2]!.id) }))).body).toEqual([expect.objectContaining({ id: b.values[2]!.id })]);
    expect(two.read.get('a')).toBeUndefined();
  });

  // Regression test (fixed; the bug was in lambdas/iap-log-values/log-values.ts:57-58 with values.ts:104-108): a time range that is
  // empty — a lower bound later than the snapshot (`utc>` a future time), or bounds that exclude each
  // other (`utc>B&utc<A`, A < B) — is sent to DynamoDB as `sk BETWEEN :from AND :to` with
  // :from > :to, which DynamoDB refuses (ValidationException): the caller gets a 500 for a valid
  // query whose answer is simply [].
  it('answers [] for an empty time range (lower bound above the upper one) without asking the store for it', async () => {
    for (const valueParam of ['*+utc>2030-01-01', '*+utc>2026-03-01T11:30Z&utc<2026-03-01T11:10Z', '*+utc==2026-03-01T11:00Z&utc==2026-03-01T11:00:01Z']) {
      const fake = fakeStores([datapoint('a', 100, start)]);
      expect(await run(fake, request('GET', { value_param: valueParam }))).toEqual({ status: 200, body: [] });
    }
  });

  it('sorts the values of several datapoints by time, ties by value id (the datapoints\' numbers)', async () => {
    const a = datapoint('a', 3, start, 2 * S);
    const b = datapoint('b', 3, start + S, 2 * S, KEEP, 'D0');
    const c = datapoint('c', 2, start, 4 * S);
    const fake = fakeStores([c, a, b]);
    const { body } = await run(fake, request('GET', {}));
    const list = body as Array<{ id: number; datapointName: string; utc: string }>;
    // At equal times, by value id: a (the first datapoint numbered) before b before c, whatever their devices.
    // t+0: D1/a#1, D1/c#1 · t+1: D0/b#1 · t+2: D1/a#2 · t+3: D0/b#2 · t+4: D1/a#3, D1/c#2 · t+5: D0/b#3
    expect(list.map((v) => `${v.datapointName}${v.id % 1e9}`)).toEqual(['a1', 'c1', 'b1', 'a2', 'b2', 'a3', 'c2', 'b3']);
    expect(list.map((v) => v.utc)).toEqual([...list.map((v) => v.utc)].sort());
  });

  it('hides values past the retention of every level they carry, and shows only the levels still keeping them', async () => {
    const config: LogConfig = { ...KEEP, levels: [{ interval: 0, retention: 1, logMultiple: null }, { interval: 0, retention: 3, logMultiple: null }, KEEP.levels[2]] };
    const d = datapoint('a', 3, NOW - 2 * DAY, DAY / 2, config);
    d.values[0]!.levels = [1]; // 2 days old, level 1 only: gone
    d.values[1]!.levels = [1, 2]; // 1.5 days old: level 2 only still keeps it
    d.values[2]!.levels = [1, 2]; // 1 day old exactly: level 1's window [at, at + 1 day) has just ended
    const fake = fakeStores([d]);
    const { body } = await run(fake, request('GET', {}));
    expect((body as Array<{ id: number; tags: unknown }>).map((v) => [v.id, v.tags])).toEqual([
      [d.values[1]!.id, [{ log_level_2: null }]],
      [d.values[2]!.id, [{ log_level_2: null }]],
    ]);
  });

  it('selects a literal {value_param} as a value id', async () => {
    const d = datapoint('a', 5, start);
    const fake = fakeStores([d]);
    const { body } = await run(fake, request('GET', { value_param: String(d.values[3]!.id) }));
    expect((body as Array<{ id: number; value: number }>).map((v) => [v.id, v.value])).toEqual([[d.values[3]!.id, 3]]);
    expect(await run(fakeStores([d]), request('GET', { value_param: '999' }))).toEqual({ status: 200, body: [] });
  });
});

describe('handleLogValues: DELETE', () => {
  it('deletes exactly the visible values that match, answers 204 without a body', async () => {
    const d = datapoint('a', 10, NOW - 3600 * S);
    const other = datapoint('b', 4, NOW - 3600 * S);
    const fake = fakeStores([d, other]);
    const reply = await handleLogValues(request('DELETE', { datapoint_name: 'a', value_param: '*+value<5&value!=2' }), fake.stores, NOW);
    expect(reply.statusCode).toBe(204);
    expect(reply.body).toBeUndefined();
    expect(fake.deleted.map((e) => [e.ref.name, e.value.value])).toEqual([['a', 0], ['a', 1], ['a', 3], ['a', 4]]);
  });

  it('refuses query parameters on DELETE (400), and a literal datapoint that does not exist (404)', async () => {
    const fake = fakeStores([datapoint('a', 3, NOW - 3600 * S)]);
    expect(await run(fake, request('DELETE', {}, { pg: '0' }))).toEqual({ status: 400, body: { code: 'BadQuery', message: expect.any(String) } });
    expect(await run(fake, request('DELETE', { id: 'D1', block: 'device', block_index: '0', datapoint_name: 'nope' }))).toEqual({ status: 404, body: { code: 'NoSuchDatapoint', message: expect.any(String) } });
    expect(fake.deleted).toEqual([]);
  });

  it('sees only the caller\'s OEM', async () => {
    const fake = fakeStores([datapoint('a', 3, NOW - 3600 * S)]);
    expect(await run(fake, request('GET', {}, undefined, 'other-oem'))).toEqual({ status: 200, body: [] });
    await handleLogValues(request('DELETE', {}, undefined, 'other-oem'), fake.stores, NOW);
    expect(fake.deleted).toEqual([]);
  });
});

// ---- bounded reads: cursor paging, bounded seeks, bounded wildcard merges ---------------------------

interface Page {
  snapshot: number;
  resources: Array<{ id: number; value: unknown; datapointName: string; utc: string }>;
  remainingPages: number;
  next?: string;
}

describe('handleLogValues: page k costs what page 1 costs', () => {
  // Regression test: pages were read by offset, each page reading (pg+2)×sz values of every datapoint:
  // paging through 50,000 values took minutes, and a deep page seconds.
  it('follows the next token of each page: every page reads about one page of values, and the pages make up the whole log', async () => {
    const d = datapoint('a', 5_000, NOW - 20 * 3600 * S, 10 * S);
    const fake = fakeStores([d]);
    const first = await run(fake, request('GET', {}, { pg: '0', sz: '100' }));
    const page0 = first.body as Page;
    expect(page0.resources).toHaveLength(100);
    expect(page0.remainingPages).toBe(1);
    expect(page0.next).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{1,200}$/));
    const readPage0 = fake.read.get('a')!;
    expect(readPage0).toBeLessThanOrEqual(2 * 101);

    const seen = [...page0.resources];
    let page = page0;
    for (let pg = 1; page.next !== undefined; pg++) {
      fake.read.clear();
      const reply = await run(fake, request('GET', {}, { pg: String(pg), sz: '100', xs: page.next }));
      expect(reply.status).toBe(200);
      page = reply.body as Page;
      expect(page.snapshot).toBe(page0.snapshot);
      expect(fake.read.get('a') ?? 0).toBeLessThanOrEqual(2 * 101);
      seen.push(...page.resources);
      expect(pg).toBeLessThan(60);
    }
    expect(page.remainingPages).toBe(0);
    expect(seen.map((v) => v.id)).toEqual(d.values.map((v) => v.id));
  });

  it('refuses a token used on another address, or one that is not a token, with 400 BadQuery', async () => {
    const fake = fakeStores([datapoint('a', 300, NOW - 3600 * S), datapoint('b', 300, NOW - 3600 * S)]);
    const { next } = (await run(fake, request('GET', { datapoint_name: 'a' }, { pg: '0', sz: '10' }))).body as Page;
    expect(await run(fake, request('GET', { datapoint_name: 'b' }, { pg: '1', sz: '10', xs: next! }))).toEqual({ status: 400, body: { code: 'BadQuery', message: expect.stringMatching(/xs/) } });
    expect(await run(fake, request('GET', {}, { pg: '1', sz: '10', xs: 'c1_zz' }))).toEqual({ status: 400, body: { code: 'BadQuery', message: expect.stringMatching(/xs/) } });
  });

  it('answers a pg that is not the token\'s next page by a bounded seek: the same page as offset paging gives', async () => {
    const d = datapoint('a', 1_000, NOW - 3600 * S);
    const fake = fakeStores([d]);
    const { next, snapshot } = (await run(fake, request('GET', {}, { pg: '0', sz: '10' }))).body as Page;
    // Forward from the token (pages 1-4 skipped), back to an earlier page, and IAP's own pg + xs=<snapshot>.
    for (const [pg, xs] of [['5', next!], ['0', next!], ['7', String(snapshot)], ['3', undefined]] as const) {
      const reply = await run(fake, request('GET', {}, xs === undefined ? { pg, sz: '10' } : { pg, sz: '10', xs }));
      expect((reply.body as Page).resources.map((v) => v.id)).toEqual(d.values.slice(Number(pg) * 10, Number(pg) * 10 + 10).map((v) => v.id));
    }
  });

  it(`refuses a seek deeper than ${MAX_SEEK_VALUES} values (pg × sz without the previous page's token) with 400 PageTooDeep, reading nothing`, async () => {
    const fake = fakeStores([datapoint('a', 20_000, NOW - 20 * 3600 * S, 3 * S)]);
    const deep = await run(fake, request('GET', {}, { pg: String(MAX_SEEK_VALUES / 100 + 1), sz: '100' }));
    expect(deep).toEqual({ status: 400, body: { code: 'PageTooDeep', message: expect.stringMatching(/next/) } });
    expect(fake.queries.count).toBe(0);
    expect((await run(fake, request('GET', {}, { pg: String(MAX_SEEK_VALUES / 100), sz: '100' }))).status).toBe(200);
  });
});

describe('handleLogValues: wildcards merged with bounded memory and concurrency', () => {
  // Regression test: a wildcard read queried every selected datapoint at once (10,000 datapoints: 10,012
  // queries in flight and 583 MiB of heap), each for (pg+2)×sz values.
  it(`keeps at most ${MAX_CONCURRENT_QUERIES} value queries in flight, and reads little more than a value per datapoint for a page`, async () => {
    const start = NOW - 3600 * S;
    const all = Array.from({ length: 1_000 }, (_, i) => datapoint(`p${String(i).padStart(4, '0')}`, 50, start + i, 1_000 * S / 50));
    const fake = fakeStores(all);
    const { status, body } = await run(fake, request('GET', {}, { pg: '0', sz: '100' }));
    expect(status).toBe(200);
    const page = body as Page;
    // The first 100 values by time: the first value of each of the first 100 datapoints.
    expect(page.resources.map((v) => v.datapointName)).toEqual(all.slice(0, 100).map((d) => d.record.name));
    expect(fake.queries.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
    const read = [...fake.read.values()].reduce((a, b) => a + b, 0);
    expect(read).toBeLessThanOrEqual(3 * all.length);
  });

  it(`refuses a selection of more than ${MAX_MERGED_DATAPOINTS} datapoints with 422 SelectionTooLarge, saying to narrow the address, reading no value`, async () => {
    const start = NOW - 3600 * S;
    const fake = fakeStores(Array.from({ length: MAX_MERGED_DATAPOINTS + 1 }, (_, i) => datapoint(`q${i}`, 1, start)));
    for (const query of [undefined, { pg: '0', sz: '10' }]) {
      const reply = await run(fake, request('GET', {}, query));
      expect(reply).toEqual({ status: 422, body: { code: 'SelectionTooLarge', message: expect.stringMatching(/narrow/) } });
    }
    expect(fake.queries.count).toBe(0);
  });

  it('deletes over a wildcard with bounded concurrency', async () => {
    const start = NOW - 3600 * S;
    const fake = fakeStores(Array.from({ length: 200 }, (_, i) => datapoint(`r${i}`, 3, start)));
    const reply = await handleLogValues(request('DELETE', {}), fake.stores, NOW);
    expect(reply.statusCode).toBe(204);
    expect(fake.deleted).toHaveLength(600);
    expect(fake.queries.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
  });
});
