import { compactPartition, runCompactionTask, splitAtCap, type CompactionInput } from '../../../../../lambdas/domain/export/compaction';
import { headerRow } from '../../../../../lambdas/domain/export/csv';
import { doneKey, exportKey, hashesKey, manifestKey } from '../../../../../lambdas/domain/export/layout';
import { parseManifest, manifestPartitions } from '../../../../../lambdas/domain/export/manifest';
import { decodeHashes, encodeHashes, rowHash, sortedHashes } from '../../../../../lambdas/domain/export/row-hash';
import type { StagedRow } from '../../../../../lambdas/domain/export/staging';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';

const W = Date.UTC(2026, 10, 22, 9, 30);
const WINDOW_MS = 5 * 60_000;
const WRITTEN_AT = W + WINDOW_MS + 15_000;

const staged = (oemId: string, row: string, timeMs: number, arrivalWindow = W, type: StagedRow['type'] = 'connectivity'): StagedRow => ({ oemId, type, timeMs, arrivalWindow, row });

const input = (rows: StagedRow[], extra: Partial<CompactionInput> = {}): CompactionInput => ({
  windowStart: W, windowMs: WINDOW_MS, writtenAtMs: WRITTEN_AT, rows, exportedBefore: () => false, fileSizeCapBytes: 1 << 20, ...extra,
});

const dataLines = (body: string) => body.split('\r\n').slice(1, -1);

describe('compactPartition', () => {
  it('makes one file per OEM and type, rows sorted by event time (stable), duplicates dropped', () => {
    const result = compactPartition(input([
      staged('oem-b', 'b1', 5),
      staged('oem-a', 'a-late', 30),
      staged('oem-a', 'a-early', 10),
      staged('oem-a', 'a-tie-1', 20),
      staged('oem-a', 'a-tie-2', 20),
      staged('oem-a', 'a-early', 10),
      staged('oem-a', 'loc', 1, W, 'location'),
    ]));
    expect(result.files.map((f) => f.key)).toEqual([
      exportKey('oem-a', 'connectivity', new Date(WRITTEN_AT)),
      exportKey('oem-a', 'location', new Date(WRITTEN_AT)),
      exportKey('oem-b', 'connectivity', new Date(WRITTEN_AT)),
    ]);
    expect(result.files[0]!.body.split('\r\n')[0]).toBe(headerRow('connectivity'));
    expect(dataLines(result.files[0]!.body)).toEqual(['a-early', 'a-tie-1', 'a-tie-2', 'a-late']);
    expect(result).toMatchObject({ rows: 7, exported: 6, duplicates: 1, alreadyExported: 0 });
    expect([...result.hashes]).toEqual([...sortedHashes(['b1', 'a-late', 'a-early', 'a-tie-1', 'a-tie-2', 'loc'].map(rowHash))]);
  });

  it('drops a late row an earlier window exported, checking only rows that arrived before this window', () => {
    const asked: Array<[string, number]> = [];
    const exported = new Set([rowHash('old-dup'), rowHash('current')]);
    const result = compactPartition(input(
      [staged('oem-a', 'old-dup', 1, W - WINDOW_MS), staged('oem-a', 'old-new', 2, W - 2 * WINDOW_MS), staged('oem-a', 'current', 3)],
      { exportedBefore: (hash, arrival) => (asked.push([hash === rowHash('old-dup') ? 'old-dup' : 'other', arrival]), exported.has(hash)) },
    ));
    expect(dataLines(result.files[0]!.body)).toEqual(['old-new', 'current']);
    expect(result.alreadyExported).toBe(1);
    expect(asked).toEqual([['old-dup', W - WINDOW_MS], ['other', W - 2 * WINDOW_MS]]);
    // The dropped row stays in this window's hashes: a later copy is dropped against this window too.
    expect(result.hashes).toContain(rowHash('old-dup'));
  });

  it('splits a group at the size cap into parts whose folders are one second apart', () => {
    const rows = Array.from({ length: 10 }, (_, i) => staged('oem-a', `row-${i}-${'x'.repeat(40)}`, i));
    const cap = Buffer.byteLength(headerRow('connectivity') + '\r\n') + 3 * 49;
    const result = compactPartition(input(rows, { fileSizeCapBytes: cap }));
    expect(result.files.map((f) => f.key)).toEqual([0, 1, 2, 3].map((i) => exportKey('oem-a', 'connectivity', new Date(WRITTEN_AT + i * 1000))));
    expect(result.files.map((f) => f.rows)).toEqual([3, 3, 3, 1]);
    for (const f of result.files) expect(Buffer.byteLength(f.body)).toBeLessThanOrEqual(cap);
  });

  it('refuses more parts than the window has seconds (folders would reach the next window\'s)', () => {
    const rows = Array.from({ length: 61 }, (_, i) => staged('oem-a', `r${i}`, i));
    expect(() => compactPartition(input(rows, { windowMs: 60_000, fileSizeCapBytes: 1 }))).toThrow(/more than 60 files/);
  });
});

describe('splitAtCap', () => {
  it('gives a row larger than the cap a file of its own', () => {
    expect(splitAtCap('registration', ['a', 'x'.repeat(500), 'b'], 200)).toEqual([['a'], ['x'.repeat(500)], ['b']]);
    expect(splitAtCap('registration', [], 200)).toEqual([]);
  });
});

describe('runCompactionTask', () => {
  const window = '20261122T0930Z';
  const manifest = (objects: Array<{ key: string; partitions: Record<string, [number, number]> }>) =>
    JSON.stringify({ v: 1, window, windowMs: WINDOW_MS, writtenAt: new Date(WRITTEN_AT).toISOString(), objects: objects.map((o) => ({ size: 0, ...o })) });

  it('does nothing but the cleanup check for a task already done', async () => {
    const store = new MemoryExportStore();
    await store.put(manifestKey(window), manifest([{ key: '_staging/x', partitions: { '2': [0, 1] } }]), 'application/json');
    await store.put(doneKey(window, 2), '', 'text/plain');
    await store.put('_staging/x', 'xx', 'text/plain');
    const outcome = await runCompactionTask({ window, partition: 2 }, store, { fileSizeCapBytes: 1 << 20 });
    expect(outcome).toMatchObject({ skipped: true, cleanedUp: true, files: 0 });
    expect(store.keys('_staging/')).toEqual([]);
  });

  it('fails (to be retried) without a manifest, with a missing staged object, or a short range', async () => {
    const store = new MemoryExportStore();
    await expect(runCompactionTask({ window, partition: 0 }, store, { fileSizeCapBytes: 1 << 20 })).rejects.toThrow(/no manifest/);
    await store.put(manifestKey(window), manifest([{ key: '_staging/gone', partitions: { '0': [0, 9] } }]), 'application/json');
    await expect(runCompactionTask({ window, partition: 0 }, store, { fileSizeCapBytes: 1 << 20 })).rejects.toThrow(/missing/);
    await store.put('_staging/gone', 'short', 'text/plain');
    await expect(runCompactionTask({ window, partition: 0 }, store, { fileSizeCapBytes: 1 << 20 })).rejects.toThrow(/gave 5 bytes/);
    expect(store.keys('_compaction/')).toEqual([manifestKey(window)]);
  });

  it('reads the row hashes of the windows since the oldest late row\'s arrival', async () => {
    const store = new MemoryExportStore();
    const slice = `oem-a\tconnectivity\t1\t${W - 2 * WINDOW_MS}\t3\tdup\noem-a\tconnectivity\t2\t${W}\t3\tnew\n`;
    await store.put('_staging/o', `{}\n${slice}`, 'text/plain');
    await store.put(manifestKey(window), manifest([{ key: '_staging/o', partitions: { '1': [3, 2 + Buffer.byteLength(slice)] } }]), 'application/json');
    await store.put(hashesKey('20261122T0920Z', 1), encodeHashes(sortedHashes([rowHash('dup')])), 'application/octet-stream');
    const outcome = await runCompactionTask({ window, partition: 1 }, store, { fileSizeCapBytes: 1 << 20 });
    expect(outcome).toMatchObject({ exported: 1, alreadyExported: 1, files: 1, cleanedUp: true });
    expect(store.calls.filter((c) => c.key.includes('/hashes/') && c.op === 'getBytes').map((c) => c.key)).toEqual([
      hashesKey('20261122T0925Z', 1), hashesKey('20261122T0920Z', 1),
    ]);
    expect([...decodeHashes((await store.getBytes(hashesKey(window, 1)))!)]).toEqual([...sortedHashes([rowHash('dup'), rowHash('new')])]);
    expect(store.text(exportKey('oem-a', 'connectivity', new Date(WRITTEN_AT)))).toBe(`${headerRow('connectivity')}\r\nnew\r\n`);
  });
});

describe('manifests', () => {
  it('parse when well formed and name their partitions', () => {
    const text = JSON.stringify({ v: 1, window: '20261122T0930Z', windowMs: WINDOW_MS, writtenAt: '2026-11-22T09:35:15.000Z', objects: [
      { key: 'a', size: 10, partitions: { '3': [0, 4], '1': [5, 9] } }, { key: 'b', size: 3, partitions: { '3': [0, 2] } },
    ] });
    expect(manifestPartitions(parseManifest(text))).toEqual([1, 3]);
  });

  it.each([
    ['not v1', { v: 2 }],
    ['a bad window', { window: 'yesterday' }],
    ['a bad range', { objects: [{ key: 'a', size: 1, partitions: { '1': [3, 1] } }] }],
    ['no objects', { objects: null }],
  ])('refuse %s', (_, change) => {
    const base = { v: 1, window: '20261122T0930Z', windowMs: WINDOW_MS, writtenAt: '2026-11-22T09:35:15.000Z', objects: [] };
    expect(() => parseManifest(JSON.stringify({ ...base, ...change }))).toThrow(/malformed/);
  });
});
