import { buildManifest, findLeftovers, planCompaction, planningDelay, PLANNER_LOOKBACK_WINDOWS, windowsToPlan } from '../../../../../lambdas/domain/export/planner';
import { dispatchedKey, manifestKey } from '../../../../../lambdas/domain/export/layout';
import { parseManifest, type Manifest } from '../../../../../lambdas/domain/export/manifest';
import { deduplicationId, messageBody, messageGroupId, parseCompactionMessage } from '../../../../../lambdas/domain/export/messages';
import { writeStagedBatch } from '../../../../../lambdas/domain/export/stage-batch';
import { windowKey } from '../../../../../lambdas/domain/export/windows';
import { streamRecord } from '../../../../helpers/export-harness';
import { MemoryCompactionQueue } from '../../../../helpers/memory-compaction-queue';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';
import { seedEvents } from './seed-events';

const MIN = 60_000;
const options = { windowMs: 5 * MIN, graceMs: 15_000 };
const at = (h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 10, 22, h, m, s, ms);

describe('planningDelay', () => {
  it('waits until the grace period past the minute when invoked early, not when late', () => {
    expect(planningDelay(at(9, 35, 0, 300), 15_000)).toBe(14_700);
    expect(planningDelay(at(9, 35, 15), 15_000)).toBe(0);
    expect(planningDelay(at(9, 35, 40), 15_000)).toBe(0);
    expect(planningDelay(at(9, 35, 0), 0)).toBe(0);
  });
});

describe('windowsToPlan', () => {
  it('plans a window once it has been closed for the grace period', () => {
    expect(windowsToPlan(at(9, 35, 14), options, new Set(), []).at(-1)).toBe('20261122T0925Z');
    expect(windowsToPlan(at(9, 35, 14), options, new Set([windowKey(at(9, 25))]), []).at(-1)).toBe('20261122T0920Z');
    expect(windowsToPlan(at(9, 35, 15), options, new Set(), []).at(-1)).toBe('20261122T0930Z');
  });

  it('looks back 12 windows, oldest first, skipping dispatched ones, plus older windows still staged', () => {
    const all = windowsToPlan(at(9, 35, 15), options, new Set(), []);
    expect(all).toHaveLength(PLANNER_LOOKBACK_WINDOWS);
    expect(all[0]).toBe('20261122T0835Z');
    expect(all).toEqual([...all].sort());
    const some = windowsToPlan(at(9, 35, 15), options, new Set(all.slice(0, -1)), ['20261122T0700Z', '20261122T0935Z', 'junk']);
    expect(some).toEqual(['20261122T0700Z', '20261122T0930Z']);
  });
});

describe('findLeftovers', () => {
  it('are the objects no manifest in compaction holds', () => {
    const manifest = { objects: [{ key: 'a' }, { key: 'b' }] } as Manifest;
    expect(findLeftovers([{ key: 'a', size: 1 }, { key: 'c', size: 2 }], [manifest])).toEqual([{ key: 'c', size: 2 }]);
  });
});

describe('buildManifest', () => {
  it('fixes the folder timestamp base at window end + grace and sorts objects by key', () => {
    const m = buildManifest('20261122T0930Z', options, [{ key: 'b', size: 1, partitions: {} }, { key: 'a', size: 2, partitions: {} }]);
    expect(m).toEqual({ v: 1, window: '20261122T0930Z', windowMs: 5 * MIN, writtenAt: '2026-11-22T09:35:15.000Z', objects: [{ key: 'a', size: 2, partitions: {} }, { key: 'b', size: 1, partitions: {} }] });
  });
});

describe('compaction messages', () => {
  it('group by partition, deduplicate by window and partition, and parse back', () => {
    const m = { window: '20261122T0930Z', partition: 7 };
    expect([messageGroupId(m), deduplicationId(m)]).toEqual(['p7', '20261122T0930Z-7']);
    expect(parseCompactionMessage(messageBody(m))).toEqual(m);
    for (const bad of ['x', '{}', '{"window":"20261122T0930Z","partition":-1}', '{"window":"soon","partition":1}']) expect(() => parseCompactionMessage(bad)).toThrow();
  });
});

describe('planCompaction', () => {
  const stage = (store: MemoryExportStore, oems: string[], when: number, shardId = 'shardId-000000000000') =>
    writeStagedBatch(oems.map((oem) => streamRecord({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oem } }, { shardId })), store, when, { windowMs: options.windowMs, partitions: 16 });

  it('writes each due window\'s manifest from the staged objects\' headers, then sends one message per partition with rows', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    await stage(store, ['oem-a', 'oem-b', 'oem-c'], at(9, 31));
    await stage(store, ['oem-a'], at(9, 33), 'shardId-000000000001');
    const planned = await planCompaction(store, queue, at(9, 35, 15), options);
    expect(planned).toHaveLength(PLANNER_LOOKBACK_WINDOWS);
    expect(planned.at(-1)).toMatchObject({ window: '20261122T0930Z', objects: 2, leftovers: 0, reused: false });
    const manifest = parseManifest(store.text(manifestKey('20261122T0930Z'))!);
    expect(manifest.objects.map((o) => o.key)).toEqual(store.keys('_staging/20261122T0930Z/'));
    const partitions = [...new Set(manifest.objects.flatMap((o) => Object.keys(o.partitions).map(Number)))].sort((a, b) => a - b);
    expect(queue.accepted).toEqual(partitions.map((partition) => ({ window: '20261122T0930Z', partition })));
    // Earlier, empty windows get an empty manifest (so a late PUT under them is a leftover) and no message.
    expect(parseManifest(store.text(manifestKey('20261122T0925Z'))!).objects).toEqual([]);
    expect(store.keys('_compaction/dispatched/')).toHaveLength(PLANNER_LOOKBACK_WINDOWS);

    // A run a minute later finds nothing to do: two LISTs.
    const calls = store.calls.length;
    expect(await planCompaction(store, queue, at(9, 36, 15), options)).toEqual([]);
    expect(store.calls.slice(calls).map((c) => c.op)).toEqual(['list', 'list']);
  });

  it('after a stop between the manifest and the messages, the next run sends the same manifest\'s messages', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    await planCompaction(store, queue, at(9, 30, 15), options);
    await stage(store, ['oem-a'], at(9, 31));
    queue.failSends = 1;
    await expect(planCompaction(store, queue, at(9, 35, 15), options)).rejects.toThrow(/SQS/);
    const first = store.text(manifestKey('20261122T0930Z'));
    await stage(store, ['oem-b'], at(9, 34, 59), 'shardId-000000000009'); // completes after the manifest
    const planned = await planCompaction(store, queue, at(9, 36, 15), options);
    expect(planned).toEqual([expect.objectContaining({ window: '20261122T0930Z', reused: true, objects: 1 })]);
    expect(store.text(manifestKey('20261122T0930Z'))).toBe(first);
    expect(store.objects.has(dispatchedKey('20261122T0930Z'))).toBe(true);
    // The late object is a leftover of the next window.
    const next = await planCompaction(store, queue, at(9, 40, 15), options);
    expect(next).toEqual([expect.objectContaining({ window: '20261122T0935Z', objects: 1, leftovers: 1 })]);
  });

  it('two runs at once write one manifest and queue each task once', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    await stage(store, ['oem-a', 'oem-b'], at(9, 31));
    let turn = 0;
    store.yieldPoint = async () => {
      for (let i = 0, n = turn++ % 3; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    await Promise.all([planCompaction(store, queue, at(9, 35, 15), options), planCompaction(store, queue, at(9, 35, 16), options)]);
    expect(queue.accepted.filter((m) => m.window === '20261122T0930Z').length).toBeGreaterThan(0);
    expect(new Set(queue.accepted.map(deduplicationId)).size).toBe(queue.accepted.length);
    expect(store.keys('_compaction/20261122T0930Z/')).toEqual([manifestKey('20261122T0930Z')]);
  });

  it('reads a header longer than the first ranged GET with a larger one', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    // 1024 partitions' ranges make a header of about 20 KB.
    const oems = Array.from({ length: 3000 }, (_, i) => `oem-${i}`);
    await writeStagedBatch(oems.map((oem) => streamRecord({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oem } })), store, at(9, 31), { windowMs: options.windowMs, partitions: 1024 });
    const planned = await planCompaction(store, queue, at(9, 35, 15), options);
    expect(planned.at(-1)).toMatchObject({ objects: 1 });
    expect(store.calls.filter((c) => c.op === 'getBytes').length).toBe(2);
    expect(queue.accepted.filter((m) => m.window === '20261122T0930Z').length).toBeGreaterThan(900);
  });
});
