import { COLUMNS, headerRow } from '../../../../../lambdas/domain/export/csv';
import { exportKey } from '../../../../../lambdas/domain/export/layout';
import type { StreamRecord } from '../../../../../lambdas/domain/event-stream';
import { parseCsv } from '../../../../helpers/csv-parse';
import { ExportHarness, streamRecord } from '../../../../helpers/export-harness';
import { InjectedS3Error } from '../../../../helpers/memory-export-store';
import { seedEvents } from './seed-events';

/**
 * Both stages end to end over an in-memory bucket with S3's semantics: what OEMs find in their
 * folders after any mix of shards, concurrency, redeliveries, bisection, crashes, late rows and faults.
 */

const at = (h: number, m: number, s = 0) => Date.UTC(2026, 10, 22, h, m, s);
// Windows of 5 minutes: W1 = [09:30, 09:35), W2 = [09:35, 09:40), W3 = [09:40, 09:45); planned 15 s after their end.
const W1_PLAN = at(9, 35, 15);
const W2_PLAN = at(9, 40, 15);
const W3_PLAN = at(9, 45, 15);

let ids = 0;
function datapoint(oemId: string, value: number, updatedAt: string) {
  return {
    ...seedEvents.datapoint,
    metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
    datapoint: { ...seedEvents.datapoint.datapoint, id: `id-${++ids}`, value, updated_at: updatedAt },
  };
}
function connectivity(oemId: string, time: string, status = 'Online') {
  return { ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oemId }, connection: { ...seedEvents.connectivity.connection, event_time: time, status } };
}

const VALUE = COLUMNS.datapoint.indexOf('value');
const UPDATED_AT = COLUMNS.datapoint.indexOf('updated_at');
const values = (rows: string[][]) => rows.map((r) => Number(r[VALUE]));

/** Records for `count` datapoints of each OEM, event times spread (and shuffled) within a minute. */
function fleetRecords(oems: readonly string[], count: number, shardId: string, arrivalMs = at(9, 30)): StreamRecord[] {
  const records: StreamRecord[] = [];
  for (let i = 0; i < count; i++) {
    for (const oem of oems) {
      const second = (i * 7 + oem.length) % 60;
      records.push(streamRecord(datapoint(oem, i * 100 + oem.length, `2026-11-22T09:2${i % 10}:${String(second).padStart(2, '0')}Z`), { shardId, arrivalMs }));
    }
  }
  return records;
}

function expectSortedByEventTime(rows: string[][]): void {
  const times = rows.map((r) => r[UPDATED_AT]!);
  expect(times).toEqual([...times].sort());
}

describe('export, both stages', () => {
  it('several shards and batches of one window → exactly one CSV per OEM and type, sorted by event time, duplicates dropped', async () => {
    const h = new ExportHarness();
    const oems = ['oem-a', 'oem-b', 'oem-c', '1234abcd'];
    const shards = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];
    const batches = shards.flatMap((shard) => [fleetRecords(oems, 5, shard), fleetRecords(oems, 5, shard)]);
    // The same event sent twice (on two shards), and a connectivity event per OEM.
    const twice = datapoint('oem-a', 999, '2026-11-22T09:29:59Z');
    batches[0]!.push(streamRecord(twice, { shardId: shards[0] }));
    batches[5]!.push(streamRecord(twice, { shardId: shards[2] }));
    batches[1]!.push(...oems.map((oem) => streamRecord(connectivity(oem, '2026-11-22T09:29:00Z'), { shardId: shards[0] })));
    let t = at(9, 30, 5);
    for (const batch of batches) expect((await h.stage(batch, (t += 20_000))).failure).toBeUndefined();

    await h.plan(W1_PLAN);
    expect(await h.compact()).toBe(0);

    const files = [...h.csvFiles().keys()];
    expect(files.sort()).toEqual(
      oems.flatMap((oem) => [exportKey(oem, 'connectivity', new Date(W1_PLAN)), exportKey(oem, 'datapoint', new Date(W1_PLAN))]).sort(),
    );
    expect(files.every((key) => key.includes('/2026-11-22-09:35:15/'))).toBe(true);
    for (const oem of oems) {
      const body = h.csvFiles().get(exportKey(oem, 'datapoint', new Date(W1_PLAN)))!;
      expect(body.split('\r\n')[0]).toBe(headerRow('datapoint'));
      const rows = parseCsv(body).slice(1);
      expect(rows).toHaveLength(oem === 'oem-a' ? 31 : 30);
      expectSortedByEventTime(rows);
      expect(rows.every((r) => r[COLUMNS.datapoint.indexOf('oem_id')] === oem)).toBe(true);
    }
    expect(values(h.rows('oem-a', 'datapoint')).filter((v) => v === 999)).toHaveLength(1);
    // Staging is removed once every partition of the window is done.
    expect(h.store.keys('_staging/')).toEqual([]);
  });

  it('ParallelizationFactor 10: concurrent, interleaved batches of one shard make one file with every row', async () => {
    const h = new ExportHarness();
    let turn = 0;
    // Every store call waits a varying number of macrotask turns: the ten batches interleave.
    h.store.yieldPoint = async () => {
      for (let i = 0, n = (turn++ * 7) % 5; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const batches = Array.from({ length: 10 }, () => fleetRecords(['oem-a', 'oem-b'], 20, 'shardId-000000000007'));
    const outcomes = await Promise.all(batches.map((batch, i) => h.stage(batch, at(9, 31, i))));
    expect(outcomes.every((o) => !o.failure)).toBe(true);
    expect(new Set(outcomes.map((o) => o.objects[0])).size).toBe(10);

    await h.plan(W1_PLAN);
    await h.compact();
    expect([...h.csvFiles().keys()]).toHaveLength(2);
    expect(h.rows('oem-a', 'datapoint')).toHaveLength(200);
    expect(h.rows('oem-b', 'datapoint')).toHaveLength(200);
    expectSortedByEventTime(h.rows('oem-a', 'datapoint'));
  });

  it('a redelivered batch, in the same window or a later one, exports its rows once', async () => {
    const h = new ExportHarness();
    const batch = fleetRecords(['oem-a'], 10, 'shardId-000000000000');
    await h.stage(batch, at(9, 31));
    await h.stage(batch, at(9, 33)); // same window: same key, same bytes
    expect(h.store.keys('_staging/')).toHaveLength(1);
    await h.plan(W1_PLAN);
    await h.compact();
    await h.stage(batch, at(9, 36)); // after W1 was compacted: a later window
    await h.plan(W2_PLAN);
    await h.compact();

    expect([...h.csvFiles().keys()]).toEqual([exportKey('oem-a', 'datapoint', new Date(W1_PLAN))]);
    expect(h.rows('oem-a', 'datapoint')).toHaveLength(10);
    expect(h.tasks.at(-1)).toMatchObject({ window: '20261122T0935Z', alreadyExported: 10, exported: 0, files: 0 });
  });

  it('bisection: halves re-staged after the whole was staged export each row once', async () => {
    const h = new ExportHarness();
    const batch = fleetRecords(['oem-a', 'oem-b'], 8, 'shardId-000000000000');
    const half = batch.length / 2;
    await h.stage(batch, at(9, 31)); // staged, but the invocation failed afterwards
    await h.stage(batch.slice(0, half), at(9, 32)); // Lambda bisects and retries each half
    await h.stage(batch.slice(half), at(9, 36)); // the second half in the next window
    expect(h.store.keys('_staging/')).toHaveLength(3);
    await h.plan(W1_PLAN);
    await h.compact();
    await h.plan(W2_PLAN);
    await h.compact();

    expect(h.rows('oem-a', 'datapoint')).toHaveLength(8);
    expect(h.rows('oem-b', 'datapoint')).toHaveLength(8);
    expect([...h.csvFiles().keys()].every((k) => k.includes('/2026-11-22-09:35:15/'))).toBe(true);
  });

  it('late rows: staged in a later window they go to that window\'s files, never lost and never twice', async () => {
    const h = new ExportHarness();
    // Arrived during W1, staged during W3 (iterator age): in W3's files.
    const late = fleetRecords(['oem-a'], 3, 'shardId-000000000000', at(9, 31));
    await h.stage(fleetRecords(['oem-a'], 2, 'shardId-000000000001'), at(9, 31));
    await h.plan(W1_PLAN);
    await h.compact();
    // A PUT begun in W1 that completed after W1 was planned: a leftover under W1's prefix.
    const leftover = fleetRecords(['oem-a'], 4, 'shardId-000000000002', at(9, 34));
    await h.stage(leftover, at(9, 34, 59));
    await h.plan(W2_PLAN);
    await h.compact();
    await h.stage(late, at(9, 42));
    // The leftover's batch also redelivered in W3, and written again under W1's prefix by a slow retry.
    await h.stage(leftover, at(9, 43));
    await h.stage(leftover, at(9, 34, 59));
    await h.plan(W3_PLAN);
    await h.compact();

    const folders = [...h.csvFiles().keys()].map((k) => k.split('/')[2]);
    expect(folders).toEqual(['2026-11-22-09:35:15', '2026-11-22-09:40:15', '2026-11-22-09:45:15']);
    expect(h.rows('oem-a', 'datapoint')).toHaveLength(2 + 4 + 3);
    expect(new Set(h.rows('oem-a', 'datapoint').map((r) => r.join(','))).size).toBe(9);
    expect(h.store.keys('_staging/')).toEqual([]);
  });

  it('splits a group larger than the size cap into files in consecutive second folders', async () => {
    const h = new ExportHarness({ fileSizeCapBytes: 2_000 });
    await h.stage(fleetRecords(['oem-a'], 40, 'shardId-000000000000'), at(9, 31));
    await h.plan(W1_PLAN);
    await h.compact();
    const files = [...h.csvFiles()];
    expect(files.length).toBeGreaterThan(3);
    files.forEach(([key, body], i) => {
      expect(key).toBe(exportKey('oem-a', 'datapoint', new Date(W1_PLAN + i * 1000)));
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(2_000);
      expect(body.startsWith(`${headerRow('datapoint')}\r\n`)).toBe(true);
    });
    const rows = h.rows('oem-a', 'datapoint');
    expect(rows).toHaveLength(40);
    expectSortedByEventTime(rows);
  });

  it('S3 faults (throttling, 500) on PUT and GET fail the step whole; the retry completes with the same files', async () => {
    const clean = new ExportHarness();
    const faulty = new ExportHarness();
    const batches = [fleetRecords(['oem-a', 'oem-b'], 6, 'shardId-000000000000'), fleetRecords(['oem-a', 'oem-c'], 6, 'shardId-000000000001')];
    for (const h of [clean, faulty]) {
      if (h === faulty) {
        faulty.store.fail({ match: (c) => c.op === 'put' && c.key.startsWith('_staging/'), times: 1, error: (c) => new InjectedS3Error(503, 'SlowDown', c) });
      }
      for (const batch of batches) {
        const first = await h.stage(batch, at(9, 31));
        if (first.failure) {
          expect(first.failure.from).toBe(batch[0]!.sequenceNumber);
          expect((await h.stage(batch, at(9, 31))).failure).toBeUndefined();
        }
      }
      if (h === faulty) {
        faulty.store.fail({ match: (c) => c.op === 'getBytes' && c.key.startsWith('_staging/'), times: 2, error: (c) => new InjectedS3Error(500, 'InternalError', c) });
        faulty.store.fail({ match: (c) => c.op === 'createIfAbsent' && c.key.endsWith('.csv'), times: 1, error: (c) => new InjectedS3Error(503, 'SlowDown', c) });
      }
      await h.planUntilDone(W1_PLAN);
      await h.compact();
    }
    expect(faulty.queue.deliveries).toBeGreaterThan(clean.queue.deliveries);
    expect(faulty.csvFiles()).toEqual(clean.csvFiles());
    expect(faulty.store.keys('_staging/')).toEqual([]);
  });

  it('rejects deep, non-finite and unparsable records to _errors/ and the named OEM\'s _errors/, neutralises formulas', async () => {
    const h = new ExportHarness();
    // Deeper than JSON.stringify can go: written as text.
    const deepEvent = JSON.stringify(datapoint('oem-a', 1, '2026-11-22T09:30:00Z')).replace('"metadata":{}', `"metadata":{"deep":${'['.repeat(20_000)}1${']'.repeat(20_000)}}`);
    const infinite = JSON.stringify(datapoint('oem-b', 7, '2026-11-22T09:30:00Z')).replace('"value":7', '"value":1e400');
    const formula = connectivity('oem-a', '2026-11-22T09:30:01Z', '=HYPERLINK("http://x","y")');
    const records = [streamRecord(deepEvent), streamRecord(infinite), streamRecord('not json'), streamRecord(formula)];
    await h.stage(records, at(9, 31));
    await h.plan(W1_PLAN);
    await h.compact();

    const central = h.store.keys('_errors/');
    expect(central).toHaveLength(1);
    const lines = h.store.text(central[0]!)!.trim().split('\n').map((l) => JSON.parse(l) as { reason: string; sequenceNumber: string });
    expect(lines.map((l) => l.sequenceNumber)).toEqual(records.slice(0, 3).map((r) => r.sequenceNumber));
    expect(lines[0]!.reason).toMatch(/nested deeper than 64 levels/);
    expect(lines[1]!.reason).toMatch(/datapoint\.value: value is not a finite number/);
    expect(lines[2]!.reason).toMatch(/^not JSON/);
    expect(h.store.keys('oem-a/_errors/')).toHaveLength(1);
    expect(h.store.text(h.store.keys('oem-a/_errors/')[0]!)).toContain(records[0]!.sequenceNumber);
    expect(h.store.text(h.store.keys('oem-a/_errors/')[0]!)).not.toContain(records[1]!.sequenceNumber);
    expect(h.store.text(h.store.keys('oem-b/_errors/')[0]!)).toContain(records[1]!.sequenceNumber);
    expect(h.rows('oem-a', 'connectivity')[0]!.at(-1)).toBe(`'=HYPERLINK("http://x","y")`);
  });
});

describe('a crash at any store call, then the retries, gives the files of a run without crash', () => {
  /** Two windows of several shards, some rows late and some redelivered: every step of both stages runs. */
  const a = fleetRecords(['oem-a', 'oem-b'], 3, 'shardId-000000000000');
  const b = fleetRecords(['oem-a', 'oem-c'], 3, 'shardId-000000000001');
  const c = fleetRecords(['oem-b', 'oem-d'], 2, 'shardId-000000000000', at(9, 34));
  const garbage = streamRecord('garbage', { shardId: 'shardId-000000000001' });
  async function scenario(h: ExportHarness): Promise<void> {
    await h.stageUntilDone(a, at(9, 31));
    await h.stageUntilDone(b, at(9, 32));
    await h.stageUntilDone([...b.slice(0, 2), garbage], at(9, 33));
    await h.planUntilDone(W1_PLAN);
    await h.compact();
    await h.stageUntilDone(c, at(9, 36));
    await h.stageUntilDone(a.slice(2), at(9, 37));
    await h.planUntilDone(W2_PLAN);
    await h.compact();
  }

  const baseline = new ExportHarness();
  let calls = 0;
  beforeAll(async () => {
    await scenario(baseline);
    calls = baseline.store.calls.length;
    expect(baseline.csvFiles().size).toBeGreaterThanOrEqual(5);
    // The crash points cover every step: staging, the planner's manifest and markers, a task's files,
    // hashes, done marker and cleanup.
    const steps = new Set(baseline.store.calls.map((c) => `${c.op} ${c.key.replace(/^(_staging|_errors|_compaction\/(dispatched|\d{8}T\d{4}Z\/(manifest|hashes|done))).*|^.*\.csv$/, (m, p1: string | undefined) => p1 ?? 'csv')}`));
    for (const step of ['put _staging', 'put _errors', 'list _staging', 'createIfAbsent _compaction/20261122T0930Z/manifest', 'put _compaction/dispatched',
      'exists _compaction/20261122T0930Z/done', 'getBytes _staging', 'createIfAbsent csv', 'createIfAbsent _compaction/20261122T0930Z/hashes',
      'createIfAbsent _compaction/20261122T0930Z/done', 'list _compaction/20261122T0930Z/done', 'deleteMany _staging', 'getBytes _compaction/20261122T0930Z/hashes']) {
      expect(steps).toContain(step);
    }
  });

  it.each(['before', 'after'] as const)('crashing %s the call takes effect', async (when) => {
    expect(calls).toBeGreaterThan(90);
    for (let k = 1; k <= calls; k++) {
      const h = new ExportHarness();
      h.store.crashAt(k, when);
      await scenario(h);
      const context = `crash ${when} call ${k}`;
      expect({ context, files: [...h.csvFiles()] }).toEqual({ context, files: [...baseline.csvFiles()] });
      expect({ context, staging: h.store.keys('_staging/') }).toEqual({ context, staging: [] });
      expect({ context, errors: h.store.snapshot((key) => key.includes('_errors/')) }).toEqual({ context, errors: baseline.store.snapshot((key) => key.includes('_errors/')) });
    }
  });
});
