import '../function-env';
import { refId } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { DEFAULT_CONFIG } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import type { DatapointRegistry, ValueLog } from '../../../../../lambdas/domain/datapoint-logs/ports';
import type { DatapointRecord, DatapointRef, StoredValue } from '../../../../../lambdas/domain/datapoint-logs/records';
import { makeHandler } from '../../../../../lambdas/functions/datapoint-logger/handler';
import { logger } from '../../../../../lambdas/shared/logger';
import { seedEvents } from '../../domain/export/seed-events';
import { kinesisEvent, lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const NOW = Date.UTC(2026, 10, 22, 9);
const LOGGED = { ...DEFAULT_CONFIG, levels: [{ interval: 0, retention: 1, logMultiple: null }, DEFAULT_CONFIG.levels[1], DEFAULT_CONFIG.levels[2]] } as DatapointRecord['config'];

/** In-memory stores; registering any datapoint of an OEM in `failing` fails, as a throttled table would. */
function stores(failing: readonly string[] = []) {
  const written: Array<{ oemId: string; value: StoredValue }> = [];
  let nextId = 0;
  const registry: DatapointRegistry = {
    async *queryDatapoints() {},
    async getDevices(_oemId, dsns) {
      return new Map(dsns.map((dsn) => [dsn, { dsn, state: 'provisioned', health: 'normal' }]));
    },
    async registerDatapoints(oemId, refs: readonly DatapointRef[], now) {
      if (failing.includes(oemId)) throw new Error('ProvisionedThroughputExceededException');
      return new Map(refs.map((ref) => [refId(ref), { ...ref, id: ++nextId, registeredAt: now, config: LOGGED }]));
    },
    async updateConfig() {
      throw new Error('not used by the logger');
    },
    async updateDevice() {},
  };
  const values: ValueLog = {
    async putValues(oemId, entries) {
      written.push(...entries.map(({ value }) => ({ oemId, value })));
    },
    async deleteValues() {},
    async *values() {},
    async saveLoggerState() {},
  };
  return { deps: { stores: { registry, values }, now: () => NOW }, written };
}

const datapoint = (oemId: string, value: number) => JSON.stringify({
  ...seedEvents.datapoint,
  metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
  datapoint: { ...seedEvents.datapoint.datapoint, id: `${oemId}-${value}`, value },
});

describe('the datapoint logger', () => {
  it('logs every OEM\'s updates, skips what is not a device event, and reports no failure', async () => {
    const { deps, written } = stores();
    const reply = await makeHandler(deps)(kinesisEvent([
      { data: datapoint('oem-a', 1), sequenceNumber: '101' },
      { data: 'not json', sequenceNumber: '102' },
      { data: datapoint('oem-b', 2), sequenceNumber: '103' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(written.map((w) => [w.oemId, w.value.value]).sort()).toEqual([['oem-a', 1], ['oem-b', 2]]);
  });

  it('reports the lowest first record among the OEMs whose writes failed, and still logs the others', async () => {
    const { deps, written } = stores(['oem-b', 'oem-c']);
    const reply = await makeHandler(deps)(kinesisEvent([
      { data: datapoint('oem-a', 1), sequenceNumber: '998' },
      { data: datapoint('oem-c', 2), sequenceNumber: '999' },
      { data: datapoint('oem-b', 3), sequenceNumber: '1000' },
      { data: datapoint('oem-c', 4), sequenceNumber: '1001' },
    ]), lambdaContext);
    // oem-c's first record (999) is below oem-b's (1000), though not in text order.
    expect(reply).toEqual({ batchItemFailures: [{ itemIdentifier: '999' }] });
    expect(written.map((w) => w.oemId)).toEqual(['oem-a']);
  });
});
