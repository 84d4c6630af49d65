import { checkWindowMs, compactTimestamp, dayPath, folderTimestamp, parseWindowKey, windowKey, windowOf } from '../../../../../lambdas/domain/export/windows';
import { checkPartitions, partitionOf } from '../../../../../lambdas/domain/export/partitions';
import {
  doneKey, errorKey, exportKey, hashesKey, manifestKey, oemErrorKey, stagingKey, stagingWindowOf, stagingWindowPrefix,
} from '../../../../../lambdas/domain/export/layout';

const at = Date.UTC(2026, 10, 22, 9, 32, 41, 500);

describe('windows', () => {
  it('are aligned to the epoch: [start, end)', () => {
    expect(windowOf(at, 5 * 60_000)).toEqual({ start: Date.UTC(2026, 10, 22, 9, 30), end: Date.UTC(2026, 10, 22, 9, 35) });
    expect(windowOf(Date.UTC(2026, 10, 22, 9, 35), 5 * 60_000).start).toBe(Date.UTC(2026, 10, 22, 9, 35));
    expect(windowOf(Date.UTC(2026, 10, 22, 9, 34, 59, 999), 5 * 60_000).start).toBe(Date.UTC(2026, 10, 22, 9, 30));
    expect(windowOf(at, 60 * 60_000).start).toBe(Date.UTC(2026, 10, 22, 9));
  });

  it('are 1 to 60 whole minutes', () => {
    expect(checkWindowMs(60_000)).toBe(60_000);
    expect(checkWindowMs(3_600_000)).toBe(3_600_000);
    for (const bad of [0, 30_000, 90_000, 3_660_000, 1.5]) expect(() => checkWindowMs(bad)).toThrow(RangeError);
  });

  it('are named YYYYMMDDTHHMMZ by their start, and the name parses back', () => {
    expect(windowKey(Date.UTC(2026, 10, 22, 9, 30))).toBe('20261122T0930Z');
    expect(parseWindowKey('20261122T0930Z')).toBe(Date.UTC(2026, 10, 22, 9, 30));
    for (const bad of ['20261122T0930', '20261322T0930Z', '20261122T2460Z', 'dispatched', '']) expect(parseWindowKey(bad)).toBeUndefined();
  });

  it('format folder, file and day timestamps in UTC', () => {
    expect(folderTimestamp(new Date(at))).toBe('2026-11-22-09:32:41');
    expect(compactTimestamp(new Date(at))).toBe('20261122T093241Z');
    expect(dayPath(at)).toBe('2026/11/22');
  });
});

describe('partitions', () => {
  it('put one OEM always in the same partition, within [0, P)', () => {
    expect(partitionOf('1234abcd', 16)).toBe(partitionOf('1234abcd', 16));
    for (const p of [1, 2, 16, 1024]) for (const oem of ['a', 'oem-b', '1234abcd']) expect(partitionOf(oem, p)).toBeGreaterThanOrEqual(0);
    expect(partitionOf('anything', 1)).toBe(0);
  });

  it('are the first 4 bytes of SHA-1 of the OEM id, modulo P (stable across releases)', () => {
    // sha1("1234abcd") starts with 0xe7d537e1 (a fixed value: changing the hash would move OEMs between partitions).
    expect(partitionOf('1234abcd', 2 ** 31)).toBe(0xe7d537e1 % 2 ** 31);
  });

  it('spread OEMs over the partitions', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionOf(`oem-${i}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('are 1 to 1024', () => {
    expect(checkPartitions(16)).toBe(16);
    for (const bad of [0, -1, 1025, 2.5]) expect(() => checkPartitions(bad)).toThrow(RangeError);
  });
});

describe('bucket layout', () => {
  const w = Date.UTC(2026, 10, 22, 9, 30);
  it('names staging, compaction, error and export keys', () => {
    expect(stagingKey(w, 'shardId-000000000001', '49001', '49099')).toBe('_staging/20261122T0930Z/shardId-000000000001/49001-49099.rows');
    expect(stagingWindowPrefix(w)).toBe('_staging/20261122T0930Z/');
    expect(stagingWindowOf('_staging/20261122T0930Z/')).toBe('20261122T0930Z');
    expect(stagingWindowOf('_staging/20261122T0930Z/s/1-2.rows')).toBe('20261122T0930Z');
    expect(stagingWindowOf('oem/_staging/x/')).toBeUndefined();
    expect(manifestKey('20261122T0930Z')).toBe('_compaction/20261122T0930Z/manifest.json');
    expect(hashesKey('20261122T0930Z', 3)).toBe('_compaction/20261122T0930Z/hashes/3');
    expect(doneKey('20261122T0930Z', 3)).toBe('_compaction/20261122T0930Z/done/3');
    expect(errorKey(w, 'shardId-000000000001', '5', '9')).toBe('_errors/2026/11/22/shardId-000000000001-5-9.jsonl');
    expect(oemErrorKey('oem-a', w, 'shardId-000000000001', '5', '9')).toBe('oem-a/_errors/2026/11/22/shardId-000000000001-5-9.jsonl');
    expect(exportKey('1234abcd', 'datapoint', new Date(Date.UTC(2026, 10, 22, 9, 35, 15)))).toBe(
      '1234abcd/datapoint/2026-11-22-09:35:15/1234abcd_datapoint_20261122T093515Z.csv',
    );
  });
});
