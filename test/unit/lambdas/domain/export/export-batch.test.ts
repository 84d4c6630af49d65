import { exportBatch, exportKey, folderTimestamp, ledgerKey, type ExportStore } from '../../../../../lambdas/domain/export/export-batch';
import type { StreamRecord } from '../../../../../lambdas/domain/event-stream';
import { headerRow } from '../../../../../lambdas/domain/export/csv';
import { seedEvents } from './seed-events';

/** An in-memory bucket with S3's conditional-create semantics, and switchable faults. */
class MemoryStore implements ExportStore {
  readonly objects = new Map<string, string>();
  failPutsMatching: RegExp | undefined;
  /** Fails the next create of a matching key after storing it (a crash right after the write). */
  crashAfterCreate: RegExp | undefined;

  async createIfAbsent(key: string, body: string): Promise<'created' | 'exists'> {
    this.fault(key);
    if (this.objects.has(key)) return 'exists';
    this.objects.set(key, body);
    if (this.crashAfterCreate?.test(key)) {
      this.crashAfterCreate = undefined;
      throw new Error('crashed after the write');
    }
    return 'created';
  }

  async put(key: string, body: string): Promise<void> {
    this.fault(key);
    this.objects.set(key, body);
  }

  async getText(key: string) {
    return this.objects.get(key);
  }

  async exists(key: string) {
    return this.objects.has(key);
  }

  private fault(key: string): void {
    if (this.failPutsMatching?.test(key)) throw new Error(`injected failure writing ${key}`);
  }

  csvFiles(): Map<string, string> {
    return new Map([...this.objects].filter(([k]) => k.endsWith('.csv')));
  }
}

let sequence = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
function record(event: unknown, shardId = 'shardId-000000000000'): StreamRecord {
  sequence += 1n;
  return { shardId, sequenceNumber: sequence.toString(), partitionKey: 'dsn', data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)), arrivalMs: Date.UTC(2026, 10, 22, 8) };
}

const at = new Date(Date.UTC(2026, 10, 22, 9, 30, 15));
const fixedNow = () => at;

function datapoint(oemId: string, value: number, updatedAt: string, id = `id-${oemId}-${value}-${updatedAt}`) {
  return {
    ...seedEvents.datapoint,
    metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
    datapoint: { ...seedEvents.datapoint.datapoint, id, value, updated_at: updatedAt },
  };
}

describe('layout', () => {
  it('names folders YYYY-MM-DD-HH:MM:SS in UTC and fixes one file name per folder', () => {
    expect(folderTimestamp(at)).toBe('2026-11-22-09:30:15');
    expect(exportKey('1234abcd', 'datapoint', at)).toBe('1234abcd/datapoint/2026-11-22-09:30:15/1234abcd_datapoint_20261122T093015Z.csv');
  });
});

describe('exportBatch', () => {
  it('writes one CSV per OEM and type, rows sorted by event time, duplicates dropped', async () => {
    const store = new MemoryStore();
    const late = datapoint('oem-a', 2, '2026-11-22T08:00:02Z');
    const early = datapoint('oem-a', 1, '2026-11-22T08:00:01Z');
    const records = [
      record(late), record(early), record(late), record(seedEvents.connectivity),
      record(datapoint('oem-b', 7, '2026-11-22T08:00:00Z')), record(seedEvents.location),
    ];
    const outcome = await exportBatch(records, store, { now: fixedNow });

    expect(outcome).toMatchObject({ records: 6, invalid: 0, exported: 5, duplicates: 1, alreadyExported: 0 });
    expect([...store.csvFiles().keys()].sort()).toEqual([
      '1234abcd/connectivity/2026-11-22-09:30:15/1234abcd_connectivity_20261122T093015Z.csv',
      '1234abcd/location/2026-11-22-09:30:15/1234abcd_location_20261122T093015Z.csv',
      'oem-a/datapoint/2026-11-22-09:30:15/oem-a_datapoint_20261122T093015Z.csv',
      'oem-b/datapoint/2026-11-22-09:30:15/oem-b_datapoint_20261122T093015Z.csv',
    ]);
    const lines = store.objects.get(exportKey('oem-a', 'datapoint', at))!.split('\r\n');
    expect(lines[0]).toBe(headerRow('datapoint'));
    expect(lines.slice(1, -1).map((l) => l.split(',')[15])).toEqual(['1', '2']);
    expect(lines.at(-1)).toBe('');
  });

  it('sends invalid records with their reason to the error prefix and exports the rest', async () => {
    const store = new MemoryStore();
    const bad = [
      record('not json {'),
      record({ metadata: { event_type: 'datapoint' } }),
      record({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: '../other' } }),
      record({ ...seedEvents.location, metadata: { ...seedEvents.location.metadata, event_type: 'mystery' } }),
      record(Buffer.from([0xff, 0xfe, 0x7b]).toString('latin1')),
    ];
    bad[4]!.data = Buffer.from([0xff, 0xfe, 0x7b]);
    const good = record(seedEvents.registration);
    const outcome = await exportBatch([...bad, good], store, { now: fixedNow });

    expect(outcome).toMatchObject({ invalid: 5, exported: 1, failures: [] });
    expect(outcome.errorFile).toBe(`_errors/2026/11/22/shardId-000000000000-${bad[0]!.sequenceNumber}-${bad[4]!.sequenceNumber}.jsonl`);
    const lines = store.objects.get(outcome.errorFile!)!.trim().split('\n').map((l) => JSON.parse(l) as { sequenceNumber: string; reason: string; data: string });
    expect(lines.map((l) => l.sequenceNumber)).toEqual(bad.map((r) => r.sequenceNumber));
    expect(lines[0]!.reason).toMatch(/^not JSON/);
    expect(lines[1]!.reason).toMatch(/invalid datapoint event: .*oem_id/);
    expect(lines[2]!.reason).toMatch(/oem_id must be/);
    expect(lines[3]!.reason).toMatch(/event_type must be one of/);
    expect(lines[4]!.reason).toBe('not UTF-8');
    expect(Buffer.from(lines[0]!.data, 'base64').toString()).toBe('not json {');
    expect(store.csvFiles().size).toBe(1);
  });

  it('adds no file when the same batch is delivered again', async () => {
    const store = new MemoryStore();
    const records = [record(datapoint('oem-a', 1, '2026-11-22T08:00:01Z')), record(seedEvents.connectivity)];
    await exportBatch(records, store, { now: fixedNow });
    const later = () => new Date(at.getTime() + 5_000);
    const again = await exportBatch(records, store, { now: later });
    expect(again).toMatchObject({ exported: 0, alreadyExported: 2, files: [] });
    expect(store.csvFiles().size).toBe(2);
  });

  it('adds no file for records already exported when a batch comes back split or extended', async () => {
    const store = new MemoryStore();
    const first = [1, 2, 3, 4].map((v) => record(datapoint('oem-a', v, `2026-11-22T08:00:0${v}Z`)));
    await exportBatch(first, store, { now: fixedNow });
    const extra = record(datapoint('oem-a', 5, '2026-11-22T08:00:05Z'));
    const later = () => new Date(at.getTime() + 1_000);
    const outcome = await exportBatch([first[2]!, first[3]!, extra], store, { now: later });
    expect(outcome).toMatchObject({ exported: 1, alreadyExported: 2 });
    const files = [...store.csvFiles().values()];
    expect(files).toHaveLength(2);
    expect(files[1]!.split('\r\n').filter(Boolean)).toHaveLength(2); // header + the new record only
  });

  it('moves to the next second when the folder is taken, so every folder holds one CSV', async () => {
    const store = new MemoryStore();
    store.objects.set(exportKey('oem-a', 'datapoint', at), 'written by another shard');
    store.objects.set(exportKey('oem-a', 'datapoint', new Date(at.getTime() + 1000)), 'and another');
    const outcome = await exportBatch([record(datapoint('oem-a', 1, '2026-11-22T08:00:01Z'), 'shardId-000000000001')], store, { now: fixedNow });
    expect(outcome.files).toEqual([exportKey('oem-a', 'datapoint', new Date(at.getTime() + 2000))]);
    expect(store.objects.get(exportKey('oem-a', 'datapoint', at))).toBe('written by another shard');
  });

  it('reports the first record of a group it could not write, and loses nothing on the retry', async () => {
    const store = new MemoryStore();
    const a = record(datapoint('oem-a', 1, '2026-11-22T08:00:01Z'));
    const b = record(datapoint('oem-b', 2, '2026-11-22T08:00:02Z'));
    const c = record(datapoint('oem-a', 3, '2026-11-22T08:00:03Z'));
    store.failPutsMatching = /^oem-b\//;
    const failed = await exportBatch([a, b, c], store, { now: fixedNow });
    expect(failed.failures.map((f) => [f.group, f.from])).toEqual([['oem-b/datapoint', b.sequenceNumber]]);

    // Lambda retries from b: the oem-a group is already exported (c with it), oem-b is written now.
    store.failPutsMatching = undefined;
    const retried = await exportBatch([b, c], store, { now: () => new Date(at.getTime() + 3000) });
    expect(retried).toMatchObject({ exported: 1, alreadyExported: 1, failures: [] });
    expect(store.csvFiles().size).toBe(2);
  });

  it('reports the first invalid record when the error file cannot be written', async () => {
    const store = new MemoryStore();
    store.failPutsMatching = /^_errors\//;
    const good = record(seedEvents.registration);
    const bad = record('garbage');
    const outcome = await exportBatch([good, bad], store, { now: fixedNow });
    expect(outcome.failures.map((f) => [f.group, f.from])).toEqual([['_errors/', bad.sequenceNumber]]);
  });

  it('repairs a crash between writing the file and recording it, without a second file', async () => {
    const store = new MemoryStore();
    const records = [record(datapoint('oem-a', 1, '2026-11-22T08:00:01Z'))];
    store.crashAfterCreate = /\.csv$/;
    const crashed = await exportBatch(records, store, { now: fixedNow });
    expect(crashed.failures.map((f) => f.from)).toEqual([records[0]!.sequenceNumber]);
    expect(JSON.parse(store.objects.get(ledgerKey('shardId-000000000000', 'oem-a', 'datapoint'))!)).toMatchObject({ pending: { key: exportKey('oem-a', 'datapoint', at) } });

    const retried = await exportBatch(records, store, { now: () => new Date(at.getTime() + 60_000) });
    expect(retried).toMatchObject({ exported: 0, alreadyExported: 1, failures: [] });
    expect(store.csvFiles().size).toBe(1);
    expect(JSON.parse(store.objects.get(ledgerKey('shardId-000000000000', 'oem-a', 'datapoint'))!)).toEqual({ through: records[0]!.sequenceNumber });
  });

  it('keeps ledgers per shard: the same OEM and type on two shards make two files', async () => {
    const store = new MemoryStore();
    await exportBatch([record(datapoint('oem-a', 1, '2026-11-22T08:00:01Z'), 'shardId-000000000000')], store, { now: fixedNow });
    await exportBatch([record(datapoint('oem-a', 2, '2026-11-22T08:00:02Z'), 'shardId-000000000001')], store, { now: fixedNow });
    expect([...store.csvFiles().keys()]).toEqual([exportKey('oem-a', 'datapoint', at), exportKey('oem-a', 'datapoint', new Date(at.getTime() + 1000))]);
  });
});
