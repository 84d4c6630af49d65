import '../function-env';
import type { ExportStore } from '../../../../../lambdas/domain/export/export-batch';
import { makeHandler } from '../../../../../lambdas/functions/exporter/handler';
import { logger } from '../../../../../lambdas/shared/logger';
import { seedEvents } from '../../domain/export/seed-events';
import { kinesisEvent, lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

/** A bucket in memory; writes under a prefix in `failing` fail. */
function memoryStore(failing: readonly string[] = []): ExportStore & { keys: () => string[] } {
  const objects = new Map<string, string>();
  const write = (key: string, body: string) => {
    if (failing.some((prefix) => key.startsWith(prefix))) throw new Error(`injected failure writing ${key}`);
    objects.set(key, body);
  };
  return {
    async createIfAbsent(key, body) {
      if (objects.has(key)) return 'exists';
      write(key, body);
      return 'created';
    },
    async put(key, body) {
      write(key, body);
    },
    async getText(key) {
      return objects.get(key);
    },
    async exists(key) {
      return objects.has(key);
    },
    keys: () => [...objects.keys()],
  };
}

const connectivity = (oemId: string) => JSON.stringify({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oemId } });

describe('the exporter', () => {
  it('exports the batch and reports no failure', async () => {
    const store = memoryStore();
    const reply = await makeHandler({ store })(kinesisEvent([
      { data: connectivity('oem-a'), sequenceNumber: '11' },
      { data: 'not json', sequenceNumber: '12' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(store.keys().filter((k) => k.endsWith('.csv'))).toEqual([expect.stringMatching(/^oem-a\/connectivity\//)]);
    expect(store.keys().filter((k) => k.startsWith('_errors/'))).toHaveLength(1);
  });

  it('reports the lowest first record among what could not be written', async () => {
    const store = memoryStore(['oem-b/', '_errors/']);
    const reply = await makeHandler({ store })(kinesisEvent([
      { data: connectivity('oem-a'), sequenceNumber: '98' },
      { data: connectivity('oem-b'), sequenceNumber: '99' },
      { data: 'not json', sequenceNumber: '100' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [{ itemIdentifier: '99' }] });
  });
});
