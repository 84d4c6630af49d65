import '../function-env';
import { makeHandler } from '../../../../../lambdas/functions/exporter/handler';
import { logger } from '../../../../../lambdas/shared/logger';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';
import { seedEvents } from '../../domain/export/seed-events';
import { kinesisEvent, lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const NOW = Date.UTC(2026, 10, 22, 9, 31, 7);
const options = { windowMs: 5 * 60_000, partitions: 16 };
const connectivity = (oemId: string) => JSON.stringify({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oemId } });

describe('the exporter (stage 1)', () => {
  it('stages the batch in one object under the current window, rejects in error files, and reports no failure', async () => {
    const store = new MemoryExportStore();
    const reply = await makeHandler({ store, now: () => NOW, options })(kinesisEvent([
      { data: connectivity('oem-a'), sequenceNumber: '11' },
      { data: 'not json', sequenceNumber: '12' },
      { data: connectivity('oem-b'), sequenceNumber: '13' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(store.keys('_staging/')).toEqual(['_staging/20261122T0930Z/shardId-000000000000/11-13.rows']);
    expect(store.keys('_errors/')).toHaveLength(1);
    expect(store.calls.map((c) => c.op)).toEqual(['put', 'put']);
  });

  it('reports the lowest sequence number of the batch when a write fails', async () => {
    const store = new MemoryExportStore();
    store.fail({ match: (c) => c.key.startsWith('_errors/') });
    const reply = await makeHandler({ store, now: () => NOW, options })(kinesisEvent([
      { data: connectivity('oem-a'), sequenceNumber: '98' },
      { data: connectivity('oem-b'), sequenceNumber: '99' },
      { data: 'not json', sequenceNumber: '100' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [{ itemIdentifier: '98' }] });
  });
});
