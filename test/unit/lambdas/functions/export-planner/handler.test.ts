import '../function-env';
import type { ScheduledEvent } from 'aws-lambda';
import { makeHandler } from '../../../../../lambdas/functions/export-planner/handler';
import { writeStagedBatch } from '../../../../../lambdas/domain/export/stage-batch';
import { logger } from '../../../../../lambdas/shared/logger';
import { streamRecord } from '../../../../helpers/export-harness';
import { MemoryCompactionQueue } from '../../../../helpers/memory-compaction-queue';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';
import { seedEvents } from '../../domain/export/seed-events';
import { lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const scheduled: ScheduledEvent = {
  version: '0', id: 'e', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012',
  time: '2026-11-22T09:35:00Z', region: 'us-east-1', resources: [], detail: {},
};
const options = { windowMs: 5 * 60_000, graceMs: 15_000 };

describe('the export planner', () => {
  it('invoked at the minute, sleeps until the grace period has passed, then plans the window that closed', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    await writeStagedBatch([streamRecord(seedEvents.connectivity)], store, Date.UTC(2026, 10, 22, 9, 32), { windowMs: options.windowMs, partitions: 16 });
    let clock = Date.UTC(2026, 10, 22, 9, 35, 0, 400);
    const slept: number[] = [];
    const handler = makeHandler({ store, queue, now: () => clock, sleep: async (ms) => void (slept.push(ms), (clock += ms)), options });
    await handler(scheduled, lambdaContext);
    expect(slept).toEqual([14_600]);
    expect(queue.accepted.map((m) => m.window)).toEqual(['20261122T0930Z']);
  });

  it('throws when planning fails, so the run is seen as failed (the next minute retries)', async () => {
    const store = new MemoryExportStore();
    store.fail({ match: (c) => c.op === 'list', times: 1 });
    const handler = makeHandler({ store, queue: new MemoryCompactionQueue(), now: () => Date.UTC(2026, 10, 22, 9, 35, 20), sleep: async () => undefined, options });
    await expect(handler(scheduled, lambdaContext)).rejects.toThrow(/SlowDown/);
  });
});
