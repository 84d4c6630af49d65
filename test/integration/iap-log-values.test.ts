import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { openDeployment, type Deployment } from './deployment';
import { connectivityEvent, locationEvent, logsPath, putEvents, registrationEvent } from './iap-helpers';
import {
  baseTime, EVERY, expected, expectError, expectOk, expectSortedByUtc, S, summary, tags, update, VALUE_KEYS, valuesApi, valuesPath, type ErrorBody, type Json, type Page, type Value,
} from './iap-values-helpers';
import { eventually } from './local-cloud-helpers';

/**
 * The IAP log value routes end to end on a deployment (the embedded local cloud, or the one PIPELINE_OUTPUTS
 * describes: see deployment.ts): datapoints configured through the configuration routes, DSS events put on
 * the real stream, the datapoint-logger deciding and writing values to DynamoDB, the values function
 * answering over the HTTP API with real tokens. Every test has its own OEM. Fault injection, redelivery of
 * a batch to the function and the TTL sweep need the local cloud's hooks: local-only/iap-log-values-faults.test.ts.
 */

jest.setTimeout(120_000);

let deployment: Deployment;
let kinesis: KinesisClient;
let doc: DynamoDBDocumentClient;
let streamName: string;
let table: string;

beforeAll(async () => {
  deployment = await openDeployment();
  kinesis = new KinesisClient(deployment.aws);
  doc = DynamoDBDocumentClient.from(new DynamoDBClient(deployment.aws));
  streamName = deployment.outputs.EventStreamName!;
  table = deployment.outputs.DatapointLogTableName!;
});

afterAll(async () => {
  kinesis?.destroy();
  doc?.destroy();
  await deployment?.stop();
});

const { tenant, api, configure, valuesWhen, storedItems } = valuesApi(() => ({ deployment, doc, table }));

// ---- tests ----------------------------------------------------------------------------------------

describe('logged values as the seed shows them', () => {
  it('answers exactly the updates the rules select, in the seed\'s shape, tagged per level, sorted by UTC, device facts as at each value', async () => {
    const { oemId, token } = await tenant('shape');
    const dsn = 'AC000W000000001';
    const B = baseTime();
    // temp: level 1 every change, level 2 at most every 10 s, minDeltaValue any. hum: level 3, every update.
    const tempId = await configure(token, dsn, 'temp', { level1: { interval: 0, retention: 1 }, level2: { interval: 10, retention: 2 }, minDeltaValue: 'any' });
    const humId = await configure(token, dsn, 'hum', { level3: { interval: 0, retention: 1 }, minDeltaValue: 'always' });
    await putEvents(kinesis, streamName, [
      locationEvent(oemId, dsn, { lat: '58.6', long: '49.7', time_zone: 'Europe/Kirov' }, B - 60 * S),
      update(oemId, dsn, 'temp', 1, B), //                    logged: levels 1, 2
      update(oemId, dsn, 'temp', 1, B + 1 * S), //            same value: not logged (any)
      update(oemId, dsn, 'temp', 2, B + 2500), //             level 1 (level 2 waits 10 s)
      update(oemId, dsn, 'hum', 50, B + 3 * S), //            level 3
      update(oemId, dsn, 'hum', 50, B + 3500), //             level 3 (always)
      connectivityEvent(oemId, dsn, 'Offline', B + 5 * S),
      update(oemId, dsn, 'temp', 3, B + 12 * S), //           levels 1, 2; device down
      update(oemId, dsn, 'temp', 3, B + 13 * S), //           same value: not logged
      registrationEvent(oemId, dsn, false, B + 20 * S),
      update(oemId, dsn, 'temp', 'x', B + 21 * S), //         level 1 (level 2: 9 s since it logged); unprovisioned
      update(oemId, dsn, 'temp', true, B + 22 * S), //        levels 1, 2
    ]);
    const values = await valuesWhen(token, valuesPath(dsn, '*', '*', '*'), 7);
    const kirov = { timeZone: 'Europe/Kirov' };
    const down = { ...kirov, health: 'down' };
    const gone = { ...down, state: 'unprovisioned' };
    expect(values).toEqual([
      expected(dsn, 'temp', B, 1, [1, 2], kirov),
      expected(dsn, 'temp', B + 2500, 2, [1], kirov),
      expected(dsn, 'hum', B + 3 * S, 50, [3], kirov),
      expected(dsn, 'hum', B + 3500, 50, [3], kirov),
      expected(dsn, 'temp', B + 12 * S, 3, [1, 2], down),
      expected(dsn, 'temp', B + 21 * S, 'x', [1], gone),
      expected(dsn, 'temp', B + 22 * S, true, [1, 2], gone),
    ]);
    for (const v of values) expect(Object.keys(v)).toEqual(VALUE_KEYS);
    expect(values[0]!.local).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.123 Europe\/Kirov$/);
    expect(values[0]!.utc).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.123 UTC$/);

    // id: the datapoint's number × 10⁹ + the value's sequence: unique, increasing in logging order per datapoint.
    const ids = (name: string) => values.filter((v) => v.datapointName === name).map((v) => v.id);
    expect(ids('temp')).toEqual([1, 2, 3, 4, 5].map((n) => tempId * 1e9 + n));
    expect(ids('hum')).toEqual([1, 2].map((n) => humId * 1e9 + n));
    expect(new Set(values.map((v) => v.id)).size).toBe(values.length);

    // Nothing else turns up later (the skipped updates stay skipped).
    await new Promise((r) => setTimeout(r, 1500));
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', '*'), token))).toEqual(values);
  });

  it('answers the seed\'s examples: nvoEnergy at level 1 on 17q2d95.4, and the regex over nvoEnergy|nvoVoltage|nvoPwrFactor on T6tWyg8.3', async () => {
    const { oemId, token } = await tenant('seedex');
    const B = baseTime();
    const [d1, d2] = ['17q2d95.4', 'T6tWyg8.3'];
    await configure(token, d1, 'nvoEnergy', { level1: { interval: 0, retention: 1 }, level2: { interval: 0, retention: 1 }, minDeltaValue: 'always' });
    await configure(token, d1, 'nvoEnergy', { level2: { interval: 0, retention: 1 }, minDeltaValue: 'always' }, 'Meter', '1'); // no level 1
    await configure(token, d1, 'nvoVoltage', EVERY);
    for (const name of ['nvoEnergy', 'nvoVoltage', 'nvoPwrFactor', 'nvoCurrent', 'myNvoEnergy']) await configure(token, d2, name, EVERY);
    const events: Json[] = [];
    for (let i = 0; i < 3; i++) {
      events.push(update(oemId, d1, 'nvoEnergy', 100 + i, B + i * S));
      events.push(update(oemId, d1, 'nvoEnergy', 200 + i, B + i * S + 100, { block: 'Meter', blockIndex: 1 }));
      events.push(update(oemId, d1, 'nvoVoltage', 230 + i, B + i * S + 200));
    }
    ['nvoEnergy', 'nvoVoltage', 'nvoPwrFactor', 'nvoCurrent', 'myNvoEnergy'].forEach((name, n) => {
      for (let i = 0; i < 2; i++) events.push(update(oemId, d2, name, n * 10 + i, B + i * S + n * 10));
    });
    await putEvents(kinesis, streamName, events);
    await valuesWhen(token, valuesPath('*', '*', '*', '*'), 9 + 10);

    const first = expectOk(await api('GET', `/iap/devs/17q2d95.4/if/*/*/*+name==nvoEnergy&tag==log_level_1/logs/value/*`, token));
    expect(first).toEqual([0, 1, 2].map((i) => expected(d1, 'nvoEnergy', B + i * S, 100 + i, [1, 2])));

    const second = expectOk(await api('GET', `/iap/devs/T6tWyg8.3/if/*/*/*+name=+^(nvoEnergy)%7C(nvoVoltage)%7C(nvoPwrFactor)/logs/value/*`, token));
    expect(second).toEqual([0, 1].flatMap((i) => ['nvoEnergy', 'nvoVoltage', 'nvoPwrFactor'].map((name, n) => expected(d2, name, B + i * S + n * 10, n * 10 + i, [1]))));
    expectSortedByUtc(second);
  });

  it('selects values by their level tag in {value_param}', async () => {
    const { oemId, token } = await tenant('tagvp');
    const dsn = 'TAG0001';
    const B = baseTime();
    // Level 1 at most hourly, level 2 every update: only the first value carries log_level_1.
    await configure(token, dsn, 'nvoEnergy', { level1: { interval: 3600, retention: 1 }, level2: { interval: 0, retention: 1 }, minDeltaValue: 'always' });
    await putEvents(kinesis, streamName, [0, 1, 2].map((i) => update(oemId, dsn, 'nvoEnergy', i, B + i * S)));
    const all = await valuesWhen(token, valuesPath(dsn, '*', '*', '*'), 3);
    expect(all.map((v) => v.tags)).toEqual([tags(1, 2), tags(2), tags(2)]);
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', 'nvoEnergy', '*+tag==log_level_1'), token))).toEqual([all[0]]);
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', 'nvoEnergy', '*+tag!=log_level_1'), token))).toEqual(all.slice(1));
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', 'nvoEnergy', '*+tag=+level_2$'), token))).toEqual(all);
  });

  // Regression test (fixed; the bug was in lambdas/iap-log-values/log-values.ts:25-28, valueConditions): on the value routes, a `tag`
  // condition on {datapoint_name} only selects DATAPOINTS that have that level active (select.ts
  // activeLevelTags); it is not applied to the values, unlike `timestamp`. So the seed's "Get all
  // level 1 logged datapoints named nvoEnergy" (`*+name==nvoEnergy&tag==log_level_1`) also returns
  // values that were logged at level 2 only (tags [{"log_level_2": null}]). README "IAP datapoint log
  // values" lists `tag` next to `timestamp` as a value selection on {datapoint_name}.
  it('applies tag==log_level_1 on {datapoint_name} to the values: only values logged at level 1', async () => {
    const { oemId, token } = await tenant('tagdp');
    const dsn = 'TAG0002';
    const B = baseTime();
    await configure(token, dsn, 'nvoEnergy', { level1: { interval: 3600, retention: 1 }, level2: { interval: 0, retention: 1 }, minDeltaValue: 'always' });
    await putEvents(kinesis, streamName, [0, 1, 2].map((i) => update(oemId, dsn, 'nvoEnergy', i, B + i * S)));
    const all = await valuesWhen(token, valuesPath(dsn, '*', '*', '*'), 3);
    const reply = expectOk(await api('GET', valuesPath(dsn, '*', '*', '*+name==nvoEnergy&tag==log_level_1'), token));
    expect(reply.map((v) => v.tags)).toEqual([tags(1, 2)]);
    expect(reply).toEqual([all[0]]);
  });
});

describe('selection', () => {
  it('selects by device, name, regex, tag, time range on either element, value, id; sorted by UTC across datapoints and devices', async () => {
    const { oemId, token } = await tenant('select');
    const B = baseTime();
    const points = [['SEL001', 'temp'], ['SEL001', 'hum'], ['SEL002', 'temp'], ['SEL002', 'Humidity']] as const;
    for (const [dsn, name] of points) await configure(token, dsn, name, EVERY);
    // 12 updates, interleaved over the four datapoints, 750 ms apart: value k at B + k·750 ms.
    const plan = Array.from({ length: 12 }, (_, k) => ({ dsn: points[k % 4]![0], name: points[k % 4]![1], value: k * 5, at: B + k * 750 }));
    await putEvents(kinesis, streamName, plan.map((p) => update(oemId, p.dsn, p.name, p.value, p.at)));
    const all = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 12);
    expect(all).toEqual(plan.map((p) => expected(p.dsn, p.name, p.at, p.value, [1])));
    expectSortedByUtc(all);

    const iso = (ms: number) => new Date(ms).toISOString();
    const at = (k: number) => plan[k]!.at;
    const pick = (keep: (p: (typeof plan)[number], k: number) => boolean) => all.filter((_, k) => keep(plan[k]!, k));
    const cases: Array<[string, Value[]]> = [
      [valuesPath('*', '*', '*', '*'), all],
      [valuesPath('SEL001', '*', '*', '*'), pick((p) => p.dsn === 'SEL001')],
      [valuesPath('*+id==SEL002', '*', '*', '*'), pick((p) => p.dsn === 'SEL002')],
      [valuesPath('*+name!=SEL002', 'device', '0', '*'), pick((p) => p.dsn === 'SEL001')],
      [valuesPath('*', '*', '*', 'temp'), pick((p) => p.name === 'temp')],
      [valuesPath('*', '*', '*', '*+name==temp'), pick((p) => p.name === 'temp')],
      [valuesPath('*', '*', '*', '*+name=+^hum'), pick((p) => /^hum/i.test(p.name))],
      [valuesPath('*', '*', '*', '*+name!+^hum'), pick((p) => p.name === 'temp')],
      [valuesPath('*', '*+name==device', '*+index==0', '*+tag==log_level_1'), all],
      [valuesPath('*', '*', '*', '*+tag==log_level_2'), []],
      [valuesPath('SEL002', 'device', '0', 'Humidity'), pick((p) => p.dsn === 'SEL002' && p.name === 'Humidity')],
      // Time ranges on the datapoint element (bounds at exact value times: inclusive / exclusive).
      [valuesPath('*', '*', '*', `*+utc=>${iso(at(3))}&utc<${iso(at(8))}`), pick((_, k) => k >= 3 && k < 8)],
      [valuesPath('*', '*', '*', `*+timestamp>${iso(at(3))}&timestamp<=${iso(at(8))}`), pick((_, k) => k > 3 && k <= 8)],
      [valuesPath('*', '*', '*', `*+name==temp&utc>${iso(at(0))}`), pick((p, k) => p.name === 'temp' && k > 0)],
      // … and on {value_param}; < and > percent-encoded as well.
      [valuesPath('*', '*', '*', '*', `*+utc<=${iso(at(2))}`), pick((_, k) => k <= 2)],
      [valuesPath('*', '*', '*', '*', `*+utc%3E${iso(at(9))}`), pick((_, k) => k > 9)],
      [valuesPath('*', '*', '*', '*', `*+utc%3E=${iso(at(9))}`), pick((_, k) => k >= 9)],
      [valuesPath('*', '*', '*', '*', `*+utc%3C${iso(at(1))}`), pick((_, k) => k < 1)],
      [valuesPath('*', '*', '*', '*', `*+utc==${iso(at(5))}`), pick((_, k) => k === 5)],
      [valuesPath('*', '*', '*', '*', `*+utc!=${iso(at(5))}`), pick((_, k) => k !== 5)],
      [valuesPath('*', '*', '*', `*+utc>${iso(at(1))}`, `*+utc<${iso(at(4))}`), pick((_, k) => k > 1 && k < 4)],
      [valuesPath('*', '*', '*', '*', `*+utc=>${iso(B - 3600 * S).slice(0, 10)}`), all], // a bare date
      // By value and id.
      [valuesPath('*', '*', '*', '*', '*+value=>30&value<50'), pick((p) => p.value >= 30 && p.value < 50)],
      [valuesPath('*', '*', '*', '*', `*+id==${all[7]!.id}`), [all[7]!]],
      [valuesPath('*', '*', '*', '*', String(all[6]!.id)), [all[6]!]],
      [valuesPath('SEL001', 'device', '0', 'temp', String(all[4]!.id)), [all[4]!]], // k = 4 is SEL001/temp's
      [valuesPath('SEL001', 'device', '0', 'hum', String(all[0]!.id)), []], // an id of another datapoint
      [valuesPath('*', '*', '*', 'nothing'), []],
    ];
    for (const [path, want] of cases) {
      const reply = await api('GET', path, token);
      expect({ path, status: reply.status, values: Array.isArray(reply.body) ? summary(reply.body) : reply.body }).toEqual({ path, status: 200, values: summary(want) });
      expect(reply.body).toEqual(want);
    }

    // A literal path naming no datapoint: 404; malformed selections: 400; no token: 401.
    expectError(await api('GET', valuesPath('SEL001', 'device', '0', 'nothing'), token), 404);
    expectError(await api('GET', valuesPath('*', '*', '*', '*', '*+utc>yesterday'), token), 400, 'BadPath');
    expectError(await api('GET', valuesPath('*', '*', '*', '*', '*+colour==red'), token), 400, 'BadPath');
    expectError(await api('GET', valuesPath('*', '*', '*', '*+tag<log_level_1'), token), 400, 'BadPath');
    expect((await api('GET', valuesPath('*', '*', '*', '*'))).status).toBe(401);
  });

  // Regression test (fixed; the bug was in lambdas/iap-log-values/log-values.ts:57-58 → values.ts:104-108): a time range with nothing
  // in it — a lower bound after the snapshot (`utc>` a future time), or `utc>B&utc<A` with A < B —
  // becomes `sk BETWEEN :from AND :to` with :from > :to, which DynamoDB refuses with a
  // ValidationException; the function fails and the caller gets 500 {"code":"InternalError"} for a
  // valid query whose answer is []. DELETE with such a range fails the same way.
  it('answers [] (not a 5xx) for a time range that cannot hold any value', async () => {
    const { oemId, token } = await tenant('emptyrange');
    const B = baseTime();
    await configure(token, 'RNG001', 'temp', EVERY);
    await putEvents(kinesis, streamName, [update(oemId, 'RNG001', 'temp', 1, B)]);
    await valuesWhen(token, valuesPath('*', '*', '*', '*'), 1);
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const valueParam of [`*+utc>${iso(Date.now() + 3600 * S)}`, `*+utc>${iso(B + S)}&utc<${iso(B - S)}`]) {
      const reply = await api('GET', valuesPath('*', '*', '*', '*', valueParam), token);
      expect({ valueParam, status: reply.status, body: reply.body }).toEqual({ valueParam, status: 200, body: [] });
      const deleted = await api('DELETE', valuesPath('*', '*', '*', '*', valueParam), token);
      expect({ valueParam, status: deleted.status }).toEqual({ valueParam, status: 204 });
    }
  });
});

describe('paging', () => {
  it('pages with pg, sz and xs: the pages make up the whole list, remainingPages 0 on the last page', async () => {
    const { oemId, token } = await tenant('paging');
    const B = baseTime();
    await configure(token, 'PAGE01', 'a', EVERY);
    await configure(token, 'PAGE02', 'b', EVERY);
    const plan = Array.from({ length: 7 }, (_, k) => ({ dsn: k % 3 === 0 ? 'PAGE02' : 'PAGE01', name: k % 3 === 0 ? 'b' : 'a', at: B + k * 300 }));
    await putEvents(kinesis, streamName, plan.map((p, k) => update(oemId, p.dsn, p.name, k, p.at)));
    const path = valuesPath('*', '*', '*', '*');
    const all = await valuesWhen(token, path, 7);
    expect(all.map((v) => v.value)).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const first = expectOk(await api<Page>('GET', `${path}?pg=0&sz=3`, token));
    expect(first).toEqual({ snapshot: expect.any(Number), resources: all.slice(0, 3), remainingPages: 1, next: expect.stringMatching(/^[A-Za-z0-9_-]{1,200}$/) });
    expect(Math.abs(first.snapshot - Date.now())).toBeLessThan(60 * S);
    const xs = first.snapshot;
    // The next token of each page opens the following one; IAP's xs=<snapshot> gives the same pages.
    const second = expectOk(await api<Page>('GET', `${path}?pg=1&sz=3&xs=${first.next}`, token));
    expect(second).toEqual({ snapshot: xs, resources: all.slice(3, 6), remainingPages: 1, next: expect.any(String) });
    expect(expectOk(await api<Page>('GET', `${path}?pg=1&sz=3&xs=${xs}`, token))).toEqual(second);
    const last = expectOk(await api<Page>('GET', `${path}?pg=2&sz=3&xs=${second.next}`, token));
    expect(last).toEqual({ snapshot: xs, resources: all.slice(6), remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=2&sz=3&xs=${xs}`, token))).toEqual(last);
    expect(expectOk(await api<Page>('GET', `${path}?pg=3&sz=3&xs=${xs}`, token))).toEqual({ snapshot: xs, resources: [], remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=0`, token))).toEqual({ snapshot: expect.any(Number), resources: all, remainingPages: 0 }); // sz 50
    expect(expectOk(await api<Page>('GET', `${path}?pg=0&sz=7`, token))).toEqual({ snapshot: expect.any(Number), resources: all, remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=6&sz=1`, token))).toEqual({ snapshot: expect.any(Number), resources: all.slice(6), remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=5&sz=1`, token)).remainingPages).toBe(1);
    // Paging combines with selection.
    expect(expectOk(await api<Page>('GET', `${valuesPath('*', '*', '*', 'a')}?pg=1&sz=2`, token)).resources).toEqual(all.filter((v) => v.datapointName === 'a').slice(2, 4));

    // A value logged after the snapshot (and later in time) stays out of pages asked with xs.
    await putEvents(kinesis, streamName, [update(oemId, 'PAGE01', 'a', 7, Date.now())]);
    await valuesWhen(token, path, 8);
    const again = expectOk(await api<Page>('GET', `${path}?pg=2&sz=3&xs=${xs}`, token));
    expect(again).toEqual({ snapshot: xs, resources: all.slice(6), remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=2&sz=3&xs=${second.next}`, token))).toEqual(again);
    expect(expectOk(await api<Page>('GET', `${path}?pg=2&sz=3`, token)).resources.map((v) => v.value)).toEqual([6, 7]);
  });

  // Regression test: pages were found by offset, each reading (pg+2)×sz values of every datapoint: paging
  // through 50,000 values took 318 s, a deep page 6-8 s.
  it('pages through a long log by next token, each page as quick as the first; a deep page without the token is a 400 PageTooDeep', async () => {
    const { oemId, token } = await tenant('cursor');
    const B = baseTime(3600);
    await configure(token, 'CUR001', 'a', EVERY);
    await configure(token, 'CUR002', 'b', EVERY);
    const count = 2_400;
    await putEvents(kinesis, streamName, Array.from({ length: count }, (_, k) => update(oemId, k % 2 ? 'CUR002' : 'CUR001', k % 2 ? 'b' : 'a', k, B + k * 100)));
    const path = valuesPath('*', '*', '*', '*');
    await eventually(async () => ((await storedItems(oemId, 'CUR001', 'a')).length + (await storedItems(oemId, 'CUR002', 'b')).length >= count ? true : undefined), 60_000, 'the values');

    const values: unknown[] = [];
    const took: number[] = [];
    let page: Page | undefined;
    for (let pg = 0; pg === 0 || page?.next !== undefined; pg++) {
      const started = Date.now();
      page = expectOk(await api<Page>('GET', `${path}?pg=${pg}&sz=100${pg === 0 ? '' : `&xs=${page!.next}`}`, token));
      took.push(Date.now() - started);
      values.push(...page.resources.map((v) => v.value));
      expect(pg).toBeLessThan(count / 100);
    }
    expect(values).toEqual(Array.from({ length: count }, (_, k) => k));
    // The last pages cost what the first ones do (generous bounds: the machine is shared).
    const early = took.slice(1, 6).reduce((a, b) => a + b, 0) / 5;
    const late = took.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(late).toBeLessThan(3 * early + 200);

    expect(expectError(await api('GET', `${path}?pg=101&sz=100`, token), 400, 'PageTooDeep').message).toMatch(/next/);
    expect(expectOk(await api<Page>('GET', `${path}?pg=100&sz=100`, token)).resources.map((v) => v.value)).toEqual([]);
    expect(expectOk(await api<Page>('GET', `${path}?pg=23&sz=100`, token)).resources.map((v) => v.value)).toEqual(values.slice(2300));
    // A token of one address is refused on another.
    const tokenOfA = expectOk(await api<Page>('GET', `${valuesPath('*', '*', '*', 'a')}?pg=0&sz=10`, token)).next!;
    expectError(await api('GET', `${valuesPath('*', '*', '*', 'b')}?pg=1&sz=10&xs=${tokenOfA}`, token), 400, 'BadQuery');
  });

  it(`answers a value read over more than ${1000} datapoints with 422 SelectionTooLarge, and the narrowed address`, async () => {
    const { oemId, token } = await tenant('wide');
    const B = baseTime();
    // 1,001 datapoints, registered by their first update.
    await putEvents(kinesis, streamName, Array.from({ length: 1_001 }, (_, k) => update(oemId, `WIDE${String(k % 7).padStart(3, '0')}`, `p${k}`, k, B + k)));
    await eventually(async () => {
      const reply = await api<unknown[]>('GET', logsPath('*', '*', '*', '*'), token);
      return reply.status === 200 && reply.body.length >= 1_001 ? true : undefined;
    }, 60_000, 'the datapoints');
    for (const query of ['', '?pg=0&sz=10']) {
      expect(expectError(await api('GET', `${valuesPath('*', '*', '*', '*')}${query}`, token), 422, 'SelectionTooLarge').message).toMatch(/narrow/);
    }
    expect(expectOk(await api('GET', valuesPath('WIDE000', '*', '*', '*'), token))).toEqual([]);
  });

  it('refuses bad paging with 400 BadQuery', async () => {
    const { token } = await tenant('badpage');
    const path = valuesPath('*', '*', '*', '*');
    for (const query of ['pg=-1', 'pg=a', 'pg=', 'pg=0&sz=0', 'pg=0&sz=1001', 'pg=0&sz=x', 'sz=5', 'xs=1', 'pg=0&xs=a.b', 'pg=0&xs=abc', 'pg=0&foo=1', 'foo=1']) {
      const reply = await api('GET', `${path}?${query}`, token);
      expect({ query, status: reply.status, code: (reply.body as unknown as ErrorBody).code }).toEqual({ query, status: 400, code: 'BadQuery' });
    }
    expectError(await api('DELETE', `${path}?pg=0`, token), 400, 'BadQuery');
  });

  // Regression test (fixed; the bug was in lambdas/iap-log-values/log-values.ts:58, findValues): the snapshot `xs` is compared with the
  // values' EVENT time (`range.to = snapshot`), not with when they were logged. A value logged after
  // the listing started but carrying an earlier event time (a device reporting late, a datapoint's
  // first update) is slipped into the following pages and shifts them, although README promises
  // "`snapshot` is the time the listing started; values logged later are left out of the following pages".
  it('leaves values logged after the snapshot out of the following pages, whatever their event time', async () => {
    const { oemId, token } = await tenant('snapshot');
    const B = baseTime();
    await configure(token, 'SNAP01', 'a', EVERY);
    await configure(token, 'SNAP02', 'b', EVERY);
    await putEvents(kinesis, streamName, [0, 1, 2, 3].map((k) => update(oemId, 'SNAP01', 'a', k, B + k * S)));
    const path = valuesPath('*', '*', '*', '*');
    const all = await valuesWhen(token, path, 4);
    const first = expectOk(await api<Page>('GET', `${path}?pg=0&sz=2`, token));
    expect(first.resources).toEqual(all.slice(0, 2));
    // Logged now, with an event time between the first page's values.
    await putEvents(kinesis, streamName, [update(oemId, 'SNAP02', 'b', 'late', B + 500)]);
    await valuesWhen(token, path, 5);
    const second = expectOk(await api<Page>('GET', `${path}?pg=1&sz=2&xs=${first.snapshot}`, token));
    expect(second.resources).toEqual(all.slice(2, 4));
  });
});

describe('DELETE …/logs/value/{value_param}', () => {
  it('deletes the matching values (204), which are then gone from reads and from the table; the others stay', async () => {
    const { oemId, token } = await tenant('delete');
    const B = baseTime();
    const points = [['DEL001', 'temp'], ['DEL001', 'hum'], ['DEL002', 'temp']] as const;
    for (const [dsn, name] of points) await configure(token, dsn, name, EVERY);
    await putEvents(kinesis, streamName, Array.from({ length: 12 }, (_, k) => update(oemId, points[k % 3]![0], points[k % 3]![1], k, B + k * S)));
    const all = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 12);
    const iso = (ms: number) => new Date(ms).toISOString();

    // DEL001/temp's values before B + 6 s (k = 0, 3).
    const one = await api('DELETE', valuesPath('DEL001', 'device', '0', 'temp', `*+utc<${iso(B + 6 * S)}`), token);
    expect({ status: one.status, body: one.body }).toEqual({ status: 204, body: undefined });
    let left = all.filter((v) => !(v.deviceId === 'DEL001' && v.datapointName === 'temp' && (v.value as number) < 6));
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token))).toEqual(left);
    expect((await storedItems(oemId, 'DEL001', 'temp')).map((i) => i.value).sort()).toEqual([6, 9]);
    expect(await storedItems(oemId, 'DEL001', 'hum')).toHaveLength(4);

    // One value by its id, through a wildcard address.
    const victim = left.find((v) => v.value === 4)!;
    expect((await api('DELETE', valuesPath('*', '*', '*', '*', String(victim.id)), token)).status).toBe(204);
    left = left.filter((v) => v !== victim);
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token))).toEqual(left);

    // By value, over every datapoint named temp.
    expect((await api('DELETE', valuesPath('*', '*', '*', 'temp', '*+value=>8'), token)).status).toBe(204);
    left = left.filter((v) => !(v.datapointName === 'temp' && (v.value as number) >= 8));
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token))).toEqual(left);

    // A literal path naming no datapoint: 404, nothing deleted.
    expectError(await api('DELETE', valuesPath('DEL003', 'device', '0', 'temp'), token), 404);
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token))).toEqual(left);

    // Everything (the seed's example), then the log goes on: new values get new ids.
    expect((await api('DELETE', '/iap/devs/*/if/*/*/*/logs/value/*', token)).status).toBe(204);
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token))).toEqual([]);
    for (const [dsn, name] of points) expect(await storedItems(oemId, dsn, name)).toEqual([]);
    await putEvents(kinesis, streamName, [update(oemId, 'DEL001', 'temp', 99, B + 20 * S)]);
    const [fresh] = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 1);
    expect(all.map((v) => v.id)).not.toContain(fresh!.id);
    expect(fresh!.id).toBeGreaterThan(Math.max(...all.filter((v) => v.deviceId === 'DEL001' && v.datapointName === 'temp').map((v) => v.id)));
  });
});

describe('retention', () => {
  it('applies a shortened retention to reads at once, and a lengthened one brings values back; tags show the levels still keeping a value', async () => {
    const { oemId, token } = await tenant('shorten');
    const dsn = 'EXP002';
    const now = Date.now();
    await configure(token, dsn, 'temp', { level1: { interval: 0, retention: 1 }, level2: { interval: 0, retention: 1 }, minDeltaValue: 'always' });
    const times = [now - 120 * S, now - 90 * S, now - 2 * S];
    await putEvents(kinesis, streamName, times.map((at, k) => update(oemId, dsn, 'temp', k, at)));
    const path = valuesPath(dsn, '*', '*', '*');
    const all = await valuesWhen(token, path, 3);
    expect(all.map((v) => v.tags)).toEqual([tags(1, 2), tags(1, 2), tags(1, 2)]);
    const items = await storedItems(oemId, dsn, 'temp');
    expect(items).toHaveLength(3);

    // Level 2 down to 60 s: the two older values lose the level-2 tag at once.
    await configure(token, dsn, 'temp', { level2: { interval: 0, retention: 60 / 86_400 } });
    expect(expectOk(await api('GET', path, token)).map((v) => v.tags)).toEqual([tags(1), tags(1), tags(1, 2)]);
    // Level 1 down to 60 s as well: the two older values are no longer returned, nor selected by tag.
    await configure(token, dsn, 'temp', { level1: { interval: 0, retention: 60 / 86_400 } });
    expect(expectOk(await api('GET', path, token))).toEqual([{ ...all[2], tags: tags(1, 2) }]);
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', '*', '*+tag==log_level_1'), token))).toHaveLength(1);
    expect(await storedItems(oemId, dsn, 'temp')).toEqual(items); // hidden, not deleted

    // DELETE of a level makes it inactive: values only it kept are hidden too.
    expect((await api('DELETE', logsPath(dsn, 'device', '0', 'temp', '1'), token)).status).toBe(200);
    expect(expectOk(await api('GET', path, token)).map((v) => v.tags)).toEqual([tags(2)]);

    // Back to a day: everything not yet deleted comes back.
    await configure(token, dsn, 'temp', { level1: { interval: 0, retention: 1 }, level2: { interval: 0, retention: 1 } });
    expect(expectOk(await api('GET', path, token))).toEqual(all);
  });
});

describe('tenancy', () => {
  it('never shows or deletes another OEM\'s values, even at the same device, datapoint and value ids', async () => {
    const a = await tenant('iso-a');
    const b = await tenant('iso-b');
    const B = baseTime();
    const dsn = 'SHARED01';
    await configure(a.token, dsn, 'temp', EVERY);
    await configure(a.token, dsn, 'onlyA', EVERY);
    await configure(b.token, dsn, 'temp', EVERY);
    await putEvents(kinesis, streamName, [
      ...[0, 1, 2].map((k) => update(a.oemId, dsn, 'temp', `A${k}`, B + k * S)),
      update(a.oemId, dsn, 'onlyA', 'A-only', B + 5 * S),
      ...[0, 1].map((k) => update(b.oemId, dsn, 'temp', `B${k}`, B + k * S + 500)),
    ]);
    const all = valuesPath('*', '*', '*', '*');
    const aValues = await valuesWhen(a.token, all, 4);
    const bValues = await valuesWhen(b.token, all, 2);
    expect(aValues.map((v) => v.value)).toEqual(['A0', 'A1', 'A2', 'A-only']);
    expect(bValues.map((v) => v.value)).toEqual(['B0', 'B1']);

    // Value ids are unique within an OEM: B asking for an id of A's gets B's own value of that id, if any.
    for (const v of aValues) {
      const reply = expectOk(await api('GET', valuesPath('*', '*', '*', '*', String(v.id)), b.token));
      for (const found of reply) expect(String(found.value)).toMatch(/^B/);
    }
    expectError(await api('GET', valuesPath(dsn, 'device', '0', 'onlyA'), b.token), 404);
    expectError(await api('DELETE', valuesPath(dsn, 'device', '0', 'onlyA'), b.token), 404);
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', 'onlyA'), b.token))).toEqual([]);

    expect((await api('DELETE', all, b.token)).status).toBe(204);
    expect(expectOk(await api('GET', all, b.token))).toEqual([]);
    expect(expectOk(await api('GET', all, a.token))).toEqual(aValues);
    expect(await storedItems(a.oemId, dsn, 'temp')).toHaveLength(3);
    expect(await storedItems(b.oemId, dsn, 'temp')).toEqual([]);
  });
});

describe('faults and redelivery', () => {
  // Regression test (fixed; the bug was in lambdas/datapoint-logs/logger.ts:108 / values.ts:82-86): the stream accepts string values up
  // to 1,000,000 characters (shared/device-events.ts), but a DynamoDB item is at most 400 KB. A
  // datapoint update with a 500,000-character value makes BatchWriteItem fail with a
  // ValidationException ("Item size has exceeded the maximum allowed size"); the logger reports the
  // OEM's batch as failed every time, Lambda gives up after its retries and sends the batch to the
  // on-failure destination: the OEM's OTHER updates in that batch are never logged.
  it('still logs the other updates of a batch that holds a value too large to store', async () => {
    const { oemId, token } = await tenant('bigvalue');
    const dsn = 'FLT005';
    const B = baseTime();
    await configure(token, dsn, 'small', EVERY);
    await configure(token, dsn, 'big', EVERY);
    await configure(token, dsn, 'sentinel', EVERY);
    await putEvents(kinesis, streamName, [update(oemId, dsn, 'small', 1, B), update(oemId, dsn, 'big', 'x'.repeat(500_000), B + S), update(oemId, dsn, 'small', 2, B + 2 * S)]);
    await new Promise((r) => setTimeout(r, 2000)); // past the batching window: the sentinel comes in a later batch
    await putEvents(kinesis, streamName, [update(oemId, dsn, 'sentinel', 1, B + 3 * S)]);
    await valuesWhen(token, valuesPath('*', '*', '*', 'sentinel'), 1, 30_000);
    expect(expectOk(await api('GET', valuesPath('*', '*', '*', 'small'), token)).map((v) => v.value)).toEqual([1, 2]);
  });
});

describe('values DynamoDB cannot store, and structured values', () => {
  /** A datapoint event's JSON text with its value written as given (`1e400` has no JSON.stringify form). */
  const rawUpdate = (oemId: string, dsn: string, name: string, valueText: string, at: number) =>
    JSON.stringify(update(oemId, dsn, name, '__VALUE__', at)).replace('"__VALUE__"', valueText);

  // Regression test: a datapoint logged with minDeltaValue `always` got 1, 2, 5e-324, 3, 4. DynamoDB refused
  // 5e-324 (number underflow) and with it the whole BatchWriteItem; the OEM's batch was retried 4 times and
  // discarded: 0 of the 4 good values were logged.
  it('logs the good updates of a batch that holds numbers DynamoDB cannot store, and only those are missing', async () => {
    const { oemId, token } = await tenant('numrange');
    const dsn = 'NUM001';
    const B = baseTime();
    await configure(token, dsn, 'a', EVERY);
    await configure(token, dsn, 'big', EVERY);
    await configure(token, dsn, 'sentinel', EVERY);
    await putEvents(kinesis, streamName, [
      rawUpdate(oemId, dsn, 'a', '1', B), rawUpdate(oemId, dsn, 'a', '2', B + S), rawUpdate(oemId, dsn, 'a', '5e-324', B + 2 * S),
      rawUpdate(oemId, dsn, 'a', '3', B + 3 * S), rawUpdate(oemId, dsn, 'a', '1e400', B + 4 * S), rawUpdate(oemId, dsn, 'a', '4', B + 5 * S),
      rawUpdate(oemId, dsn, 'a', '-1e126', B + 6 * S),
      // Within DynamoDB's range, although beyond what a JavaScript number holds exactly: logged and returned.
      rawUpdate(oemId, dsn, 'big', '1e20', B), rawUpdate(oemId, dsn, 'big', '9007199254740993', B + S),
      rawUpdate(oemId, dsn, 'big', '123456789012345678901234567890123456789', B + 2 * S), rawUpdate(oemId, dsn, 'big', '-0', B + 3 * S),
      rawUpdate(oemId, dsn, 'big', '9.99e125', B + 4 * S), rawUpdate(oemId, dsn, 'big', '1e-130', B + 5 * S),
    ]);
    await new Promise((r) => setTimeout(r, 2000)); // past the batching window: the sentinel comes in a later batch
    await putEvents(kinesis, streamName, [update(oemId, dsn, 'sentinel', 1, B + 7 * S)]);
    await valuesWhen(token, valuesPath('*', '*', '*', 'sentinel'), 1, 30_000);
    expect(expectOk(await api('GET', valuesPath(dsn, 'device', '0', 'a'), token)).map((v) => v.value)).toEqual([1, 2, 3, 4]);
    expect(expectOk(await api('GET', valuesPath(dsn, 'device', '0', 'big'), token)).map((v) => v.value))
      .toEqual([1e20, 9007199254740992, 1.2345678901234568e38, 0, 9.99e125, 1e-130]);
  });

  it('logs the seed\'s structured value {"state": 1, "value": 100} and lists, and returns them as sent', async () => {
    const { oemId, token } = await tenant('structured');
    const dsn = 'OBJ001';
    const B = baseTime();
    await configure(token, dsn, 'status', { level1: { interval: 0, retention: 1 }, minDeltaValue: 'any' });
    const sent = [{ state: 1, value: 100 }, { value: 100, state: 1 }, { state: 2, value: 100, note: 'é😀', nested: { list: [1, 'two', null, true, 2.5e-7] } }, [1, [2, [3]]], 7];
    await putEvents(kinesis, streamName, sent.map((value, k) => update(oemId, dsn, 'status', value, B + k * S)));
    const path = valuesPath(dsn, 'device', '0', 'status');
    const values = await valuesWhen(token, path, 4);
    // The second is the first again (keys in another order): `any` compares canonical JSON.
    expect(values.map((v) => v.value)).toEqual([sent[0], sent[2], sent[3], 7]);
    expect(JSON.stringify(values[0]!.value)).toBe('{"state":1,"value":100}');
    expect(expectOk(await api<Page>('GET', `${path}?pg=0&sz=2`, token)).resources.map((v) => v.value)).toEqual([sent[0], sent[2]]);
  });
});

describe('replies too large', () => {
  it('answers 413 ReplyTooLarge for an unpaged reply (or a page) over the payload limit, and the same values in smaller pages', async () => {
    const { oemId, token } = await tenant('large');
    const dsn = 'BIG001';
    const B = baseTime();
    await configure(token, dsn, 'blob', EVERY);
    // 19 values of 340,000 characters (under the 350 KB a logged value may have): about 6.5 MB of JSON, over the 6 MB a reply may have.
    const count = 19;
    for (let k = 0; k < count; k++) await putEvents(kinesis, streamName, [update(oemId, dsn, 'blob', `${String(k).padStart(2, '0')}${'v'.repeat(340_000)}`, B + k * S)]);
    const path = valuesPath(dsn, 'device', '0', 'blob');
    await eventually(async () => ((await storedItems(oemId, dsn, 'blob')).length >= count ? true : undefined), 60_000, 'the large values');

    const whole = await api('GET', path, token);
    expect(expectError(whole, 413, 'ReplyTooLarge').message).toMatch(/pg=/);
    expectError(await api('GET', `${path}?pg=0&sz=1000`, token), 413, 'ReplyTooLarge');
    const pages: Value[] = [];
    for (let pg = 0; ; pg++) {
      const page = expectOk(await api<Page>('GET', `${path}?pg=${pg}&sz=5`, token));
      pages.push(...page.resources);
      if (page.remainingPages === 0) break;
      expect(pg).toBeLessThan(10);
    }
    expect(pages.map((v) => (v.value as string).slice(0, 2))).toEqual(Array.from({ length: count }, (_, k) => String(k).padStart(2, '0')));
    expect(pages.every((v) => (v.value as string).length === 340_002)).toBe(true);
  });
});
