import '../function-env';
import { refId } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { DEFAULT_CONFIG } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import type { DatapointRegistry, ValueLog } from '../../../../../lambdas/domain/datapoint-logs/ports';
import type { DatapointRecord, DatapointRef, StoredValue } from '../../../../../lambdas/domain/datapoint-logs/records';
import { MAX_LOGGED_VALUE_BYTES } from '../../../../../lambdas/domain/datapoint-logs/storable';
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
      // As DynamoDB does: one number it cannot store refuses the whole BatchWriteItem.
      if (entries.some(({ value }) => typeof value.value === 'number' && value.value !== 0 && !(Math.abs(value.value) >= 1e-130 && Math.abs(value.value) < 1e126))) {
        throw Object.assign(new Error('Number underflow. Attempting to store a number with magnitude smaller than supported range'), { name: 'ValidationException' });
      }
      written.push(...entries.map(({ value }) => ({ oemId, value })));
    },
    async deleteValues() {},
    async valuePage() {
      return { values: [] };
    },
    async loggerStates() {
      return new Map();
    },
  };
  return { deps: { stores: { registry, values }, now: () => NOW }, written };
}

const datapoint = (oemId: string, value: number, at: string = seedEvents.datapoint.datapoint.updated_at) => JSON.stringify({
  ...seedEvents.datapoint,
  metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
  datapoint: { ...seedEvents.datapoint.datapoint, id: `${oemId}-${value}`, value, updated_at: at, created_at: at },
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

describe('values DynamoDB cannot store', () => {
  afterEach(() => jest.restoreAllMocks());

  // Regression test: updates 1, 2, 5e-324, 3, 4 of a datapoint logged with minDeltaValue `always`: DynamoDB
  // refused 5e-324 (number underflow) and with it the whole write, the batch was retried until discarded,
  // and none of the four good values was logged.
  it('logs the good updates, rejects the others one by one with a WARN naming the datapoint, and never fails the batch', async () => {
    const { deps, written } = stores();
    const warn = jest.spyOn(logger, 'warn');
    const info = jest.spyOn(logger, 'info');
    const at = (s: number) => `2026-11-22T08:00:0${s}Z`;
    const values = [1, 2, 5e-324, 3, 4];
    const reply = await makeHandler(deps)(kinesisEvent(values.map((v, i) => ({ data: datapoint('oem-a', v, at(i)), sequenceNumber: String(200 + i) }))), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(written.map((w) => w.value.value)).toEqual([1, 2, 3, 4]);
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, fields] = warn.mock.calls[0]! as unknown as [string, Record<string, unknown>];
    expect(message).toMatch(/not logged/);
    const { metadata } = seedEvents.datapoint;
    expect(fields).toEqual({ oemId: 'oem-a', datapoint: `${metadata.dsn}/device/0/${metadata.property_name}`, eventId: 'oem-a-5e-324', reason: 'number-out-of-range', detail: expect.any(String) });
    expect(JSON.stringify(warn.mock.calls)).not.toContain('"metadata"');
    expect(info).toHaveBeenCalledWith('Batch logged', expect.objectContaining({ logged: 4, rejected: 1, failedOems: 0 }));
  });
});

describe('what the batch line and the WARNs report', () => {
  afterEach(() => jest.restoreAllMocks());

  it('skips a value too large to store with a WARN of its size and the limit (never its content) and counts it as tooLarge', async () => {
    const { deps, written } = stores();
    const warn = jest.spyOn(logger, 'warn');
    const info = jest.spyOn(logger, 'info');
    const big = 'x'.repeat(MAX_LOGGED_VALUE_BYTES + 1000);
    const event = JSON.parse(datapoint('oem-a', 1)) as { datapoint: Record<string, unknown> };
    event.datapoint.value = big;
    event.datapoint.id = 'big-1';
    const reply = await makeHandler(deps)(kinesisEvent([
      { data: JSON.stringify(event), sequenceNumber: '300' },
      { data: datapoint('oem-a', 2, '2026-11-22T08:00:09Z'), sequenceNumber: '301' },
    ]), lambdaContext);
    expect(reply).toEqual({ batchItemFailures: [] });
    expect(written.map((w) => w.value.value)).toEqual([2]);
    expect(warn).toHaveBeenCalledTimes(1);
    const fields = warn.mock.calls[0]![1] as unknown as Record<string, unknown>;
    expect(fields).toMatchObject({ oemId: 'oem-a', eventId: 'big-1', reason: 'value-too-large', valueBytes: MAX_LOGGED_VALUE_BYTES + 1000, limitBytes: MAX_LOGGED_VALUE_BYTES });
    expect(JSON.stringify(warn.mock.calls)).not.toContain('xxxxxxxx');
    expect(info).toHaveBeenCalledWith('Batch logged', expect.objectContaining({ logged: 1, rejected: 1, tooLarge: 1 }));
  });

  it('counts invalid records by reason, a missing field as missing', async () => {
    const { deps } = stores();
    const info = jest.spyOn(logger, 'info');
    const noOem = JSON.parse(datapoint('oem-a', 1)) as { metadata: Record<string, unknown> };
    delete noOem.metadata.oem_id;
    await makeHandler(deps)(kinesisEvent([
      { data: JSON.stringify(noOem), sequenceNumber: '400' },
      { data: JSON.stringify(noOem), sequenceNumber: '401' },
      { data: datapoint('oem-a', 1), sequenceNumber: '402' },
    ]), lambdaContext);
    expect(info).toHaveBeenCalledWith('Batch logged', expect.objectContaining({
      invalid: 2, invalidReasons: { 'invalid datapoint event: metadata.oem_id is missing': 2 },
    }));
  });
});
