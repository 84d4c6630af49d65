import { stageBatch, writeStagedBatch } from '../../../../../lambdas/domain/export/stage-batch';
import { decodeHeader, decodeSlice, partitionRange } from '../../../../../lambdas/domain/export/staging';
import { partitionOf } from '../../../../../lambdas/domain/export/partitions';
import { csvRow } from '../../../../../lambdas/domain/export/csv';
import { validateEvent } from '../../../../../lambdas/domain/device-events';
import { streamRecord } from '../../../../helpers/export-harness';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';
import { seedEvents } from './seed-events';

const options = { windowMs: 5 * 60_000, partitions: 8 };
const NOW = Date.UTC(2026, 10, 22, 9, 33, 20);
const W = Date.UTC(2026, 10, 22, 9, 30);

const withOem = <T extends { metadata: object }>(event: T, oem_id: string): T => ({ ...event, metadata: { ...event.metadata, oem_id } });

function rowsOf(body: string, partition: number) {
  const bytes = Buffer.from(body);
  const range = partitionRange(decodeHeader(bytes)!.header, partition)!;
  return decodeSlice(bytes.subarray(range.start, range.end + 1));
}

describe('stageBatch', () => {
  it('makes one staged object per batch, keyed by the write window, shard and sequence range, rows by partition', () => {
    const records = [
      streamRecord(withOem(seedEvents.datapoint, 'oem-a')),
      streamRecord(withOem(seedEvents.connectivity, 'oem-b')),
      streamRecord(withOem(seedEvents.location, 'oem-a')),
    ];
    const { staged, errorFiles, invalid } = stageBatch(records, NOW, options);
    expect(invalid).toEqual([]);
    expect(errorFiles).toEqual([]);
    expect(staged).toHaveLength(1);
    expect(staged[0]!.key).toBe(`_staging/20261122T0930Z/shardId-000000000000/${records[0]!.sequenceNumber}-${records[2]!.sequenceNumber}.rows`);
    const pa = partitionOf('oem-a', 8);
    const rows = rowsOf(staged[0]!.body, pa);
    expect(rows.filter((r) => r.oemId === 'oem-a').map((r) => r.type)).toEqual(['datapoint', 'location']);
    const decoded = validateEvent(withOem(seedEvents.datapoint, 'oem-a'));
    expect(decoded.ok && rows[0]!.row).toBe(decoded.ok && csvRow(decoded.event, decoded.type));
    expect(rows[0]).toMatchObject({ timeMs: Date.parse('2018-09-24T10:25:14Z'), arrivalWindow: W });
    expect(rowsOf(staged[0]!.body, partitionOf('oem-b', 8)).some((r) => r.oemId === 'oem-b')).toBe(true);
  });

  it('is deterministic: the same batch in the same window gives the same key and bytes', () => {
    const records = [streamRecord(seedEvents.registration), streamRecord(seedEvents.location)];
    expect(stageBatch(records, NOW, options)).toEqual(stageBatch(records, NOW + 60_000, options));
    expect(stageBatch(records, NOW + 5 * 60_000, options).staged[0]!.key).toContain('/20261122T0935Z/');
  });

  it('files a row under the window of its arrival, never after the write window, and its event time (or arrival)', () => {
    const early = streamRecord(seedEvents.registration, { arrivalMs: Date.UTC(2026, 10, 22, 9, 20) });
    const future = streamRecord({ ...seedEvents.registration, registration_event: { ...seedEvents.registration.registration_event, unregistered_at: null } }, { arrivalMs: NOW + 3_600_000 });
    const rows = rowsOf(stageBatch([early, future], NOW, options).staged[0]!.body, partitionOf('1234abcd', 8));
    expect(rows.map((r) => r.arrivalWindow)).toEqual([Date.UTC(2026, 10, 22, 9, 20), W]);
    expect(rows[1]!.timeMs).toBe(NOW + 3_600_000);
  });

  it('sends rejected records to _errors/ and, when they name a valid OEM, to that OEM\'s _errors/ only', () => {
    const bad = [
      streamRecord('not json'),
      streamRecord({ ...withOem(seedEvents.connectivity, 'oem-a'), connection: { status: 'x' } }),
      streamRecord({ ...withOem(seedEvents.connectivity, 'oem-b'), connection: { status: 'y' } }),
      streamRecord(withOem(seedEvents.connectivity, '../other')),
    ];
    const good = streamRecord(seedEvents.registration);
    const { staged, errorFiles, invalid } = stageBatch([bad[0]!, bad[1]!, good, bad[2]!, bad[3]!], NOW, options);
    expect(staged[0]!.rows).toBe(1);
    expect(invalid.map((i) => i.oemId)).toEqual([undefined, 'oem-a', 'oem-b', undefined]);
    const byKey = new Map(errorFiles.map((f) => [f.key, f.body.trim().split('\n').map((l) => JSON.parse(l) as { sequenceNumber: string; reason: string; data: string })]));
    expect([...byKey.keys()].sort()).toEqual([
      `_errors/2026/11/22/shardId-000000000000-${bad[0]!.sequenceNumber}-${bad[3]!.sequenceNumber}.jsonl`,
      `oem-a/_errors/2026/11/22/shardId-000000000000-${bad[1]!.sequenceNumber}-${bad[1]!.sequenceNumber}.jsonl`,
      `oem-b/_errors/2026/11/22/shardId-000000000000-${bad[2]!.sequenceNumber}-${bad[2]!.sequenceNumber}.jsonl`,
    ]);
    const central = byKey.get(`_errors/2026/11/22/shardId-000000000000-${bad[0]!.sequenceNumber}-${bad[3]!.sequenceNumber}.jsonl`)!;
    expect(central.map((l) => l.sequenceNumber)).toEqual(bad.map((r) => r.sequenceNumber));
    expect(central[0]!.reason).toMatch(/^not JSON/);
    expect(central[3]!.reason).toMatch(/oem_id must be/);
    expect(Buffer.from(central[0]!.data, 'base64').toString()).toBe('not json');
    const oemA = [...byKey].filter(([k]) => k.startsWith('oem-a/')).flatMap(([, lines]) => lines);
    expect(oemA.map((l) => l.sequenceNumber)).toEqual([bad[1]!.sequenceNumber]);
  });

  it('writes no staged object for a batch of rejects only, and nothing for an empty batch', () => {
    expect(stageBatch([streamRecord('x')], NOW, options).staged).toEqual([]);
    expect(stageBatch([], NOW, options)).toEqual({ staged: [], errorFiles: [], invalid: [] });
  });

  it('rejects an event larger than a Kinesis record with a reason instead of parsing it', () => {
    const huge = streamRecord({ ...seedEvents.datapoint, datapoint: { ...seedEvents.datapoint.datapoint, metadata: { pad: 'x'.repeat(1024 * 1024) } } });
    expect(stageBatch([huge], NOW, options).invalid[0]!.reason).toMatch(/^larger than 1048576 bytes/);
  });
});

describe('writeStagedBatch', () => {
  it('writes the staged object and error files with PUTs only (no reads)', async () => {
    const store = new MemoryExportStore();
    const outcome = await writeStagedBatch([streamRecord(seedEvents.location), streamRecord('nope')], store, NOW, options);
    expect(outcome).toMatchObject({ records: 2, staged: 1, invalid: 1, errorFiles: 1 });
    expect(outcome.failure).toBeUndefined();
    expect(store.calls.map((c) => c.op)).toEqual(['put', 'put']);
  });

  it('fails the whole batch from its lowest sequence number when any write fails', async () => {
    const store = new MemoryExportStore();
    store.fail({ match: (c) => c.key.startsWith('_errors/') });
    const records = [streamRecord(seedEvents.location), streamRecord('nope')];
    const outcome = await writeStagedBatch([records[1]!, records[0]!], store, NOW, options);
    expect(outcome.failure?.from).toBe(records[0]!.sequenceNumber);
    expect(outcome.failure?.error.message).toMatch(/SlowDown/);
  });
});
