import './metrics-env';
import '../functions/function-env';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { messageBody } from '../../../../lambdas/domain/export/messages';
import { planCompaction } from '../../../../lambdas/domain/export/planner';
import { writeStagedBatch } from '../../../../lambdas/domain/export/stage-batch';
import { makeHandler as makeCompactor } from '../../../../lambdas/functions/export-compactor/handler';
import { makeHandler as makeExporter } from '../../../../lambdas/functions/exporter/handler';
import { makeHandler as makeLogger } from '../../../../lambdas/functions/datapoint-logger/handler';
import { refId } from '../../../../lambdas/domain/datapoint-logs/keys';
import { DEFAULT_CONFIG } from '../../../../lambdas/domain/datapoint-logs/log-settings';
import type { DatapointRegistry, ValueLog } from '../../../../lambdas/domain/datapoint-logs/ports';
import type { DatapointRecord } from '../../../../lambdas/domain/datapoint-logs/records';
import { logger } from '../../../../lambdas/shared/logger';
import { METRIC, METRICS_NAMESPACE } from '../../../../lambdas/shared/metrics';
import { streamRecord } from '../../../helpers/export-harness';
import { MemoryCompactionQueue } from '../../../helpers/memory-compaction-queue';
import { MemoryExportStore } from '../../../helpers/memory-export-store';
import { seedEvents } from '../domain/export/seed-events';
import { kinesisEvent, lambdaContext } from '../events';

beforeAll(() => logger.setLogLevel('SILENT'));

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** Runs `invoke`, capturing what goes to stdout (and the console, which Powertools uses in dev mode): the EMF lines. */
async function emfOf(invoke: () => Promise<unknown>): Promise<Emf[]> {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  try {
    await invoke();
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
  return lines
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((blob): blob is Emf => typeof blob._aws === 'object');
}

const NOW = Date.UTC(2026, 10, 22, 9, 31, 7);
const connectivity = (oemId: string) => JSON.stringify({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oemId } });

describe('the functions\' metrics, in CloudWatch embedded metric format', () => {
  it('the exporter publishes one EMF blob per invocation: events staged and rejected, in the pipeline namespace with the service dimension', async () => {
    const handler = makeExporter({ store: new MemoryExportStore(), now: () => NOW, options: { windowMs: 5 * 60_000, partitions: 16 } });
    const blobs = await emfOf(() => handler(kinesisEvent([
      { data: connectivity('oem-a'), sequenceNumber: '11' },
      { data: 'not json', sequenceNumber: '12' },
      { data: connectivity('oem-b'), sequenceNumber: '13' },
    ]), lambdaContext));
    expect(blobs).toHaveLength(1);
    const [blob] = blobs as [Emf];
    const [directive] = blob._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive!.Dimensions).toEqual([['service']]);
    expect(blob.service).toBe('unit-test-service');
    expect(directive!.Metrics.map((m) => m.Name).sort()).toEqual([METRIC.eventsRejected, METRIC.eventsStaged].sort());
    expect(directive!.Metrics.every((m) => m.Unit === 'Count')).toBe(true);
    expect(blob[METRIC.eventsStaged]).toBe(2);
    expect(blob[METRIC.eventsRejected]).toBe(1);
  });

  it('a failed staging write is counted, and the next invocation starts from zero', async () => {
    const store = new MemoryExportStore();
    store.fail({ match: () => true, times: 1 });
    const handler = makeExporter({ store, now: () => NOW, options: { windowMs: 5 * 60_000, partitions: 16 } });
    const failed = await emfOf(() => handler(kinesisEvent([{ data: connectivity('oem-a'), sequenceNumber: '1' }]), lambdaContext));
    expect(failed.map((b) => b[METRIC.stagingFailures])).toEqual([1]);
    expect(failed[0]).not.toHaveProperty(METRIC.eventsStaged);
    const ok = await emfOf(() => handler(kinesisEvent([{ data: connectivity('oem-a'), sequenceNumber: '2' }]), lambdaContext));
    expect(ok.map((b) => [b[METRIC.eventsStaged], b[METRIC.stagingFailures]])).toEqual([[1, undefined]]);
  });

  it('the compactor publishes events exported, files written and the export lag of the window', async () => {
    const store = new MemoryExportStore();
    const queue = new MemoryCompactionQueue();
    const records = ['oem-a', 'oem-b'].map((oem) => streamRecord({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oem } }));
    await writeStagedBatch(records, store, Date.UTC(2026, 10, 22, 9, 31), { windowMs: 5 * 60_000, partitions: 1 });
    await planCompaction(store, queue, Date.UTC(2026, 10, 22, 9, 35, 15), { windowMs: 5 * 60_000, graceMs: 15_000 });
    const bodies = queue.accepted.map(messageBody);
    expect(bodies).toHaveLength(1);
    const record = { messageId: 'm0', body: bodies[0]!, attributes: {}, messageAttributes: {} } as unknown as SQSRecord;
    const event: SQSEvent = { Records: [record] };
    const doneAt = Date.UTC(2026, 10, 22, 9, 35, 20);
    const blobs = await emfOf(() => makeCompactor({ store, options: { fileSizeCapBytes: 1 << 20 } }, () => doneAt)(event, lambdaContext));
    expect(blobs).toHaveLength(1);
    const blob = blobs[0]!;
    expect(blob._aws.CloudWatchMetrics[0]!.Metrics).toEqual(expect.arrayContaining([
      { Name: METRIC.eventsExported, Unit: 'Count' }, { Name: METRIC.filesWritten, Unit: 'Count' }, { Name: METRIC.exportLag, Unit: 'Seconds' },
    ]));
    expect(blob[METRIC.eventsExported]).toBe(2);
    expect(blob[METRIC.filesWritten]).toBe(2);
    // The window began at 09:30: its files were written 5 min 20 s later.
    expect(blob[METRIC.exportLag]).toBe(320);
  });

  it('the datapoint logger publishes values logged and skipped, and OEM batches that failed', async () => {
    // Every update logged (level 1: interval 0), except what the rules skip: a repeat of the same update.
    const config = { ...DEFAULT_CONFIG, levels: [{ interval: 0, retention: 1, logMultiple: null }, DEFAULT_CONFIG.levels[1], DEFAULT_CONFIG.levels[2]] } as DatapointRecord['config'];
    let nextId = 0;
    const registry: DatapointRegistry = {
      async *queryDatapoints() {},
      async getDevices(_oemId, dsns) {
        return new Map(dsns.map((dsn) => [dsn, { dsn, state: 'provisioned', health: 'normal' }]));
      },
      async registerDatapoints(oemId, refs, now) {
        if (oemId === 'oem-broken') throw new Error('ProvisionedThroughputExceededException');
        return new Map(refs.map((ref) => [refId(ref), { ...ref, id: ++nextId, registeredAt: now, config }]));
      },
      async updateConfig() {
        throw new Error('not used');
      },
      async updateDevice() {},
    };
    const values: ValueLog = {
      async putValues() {},
      async deleteValues() {},
      async valuePage() {
        return { values: [] };
      },
      async loggerStates() {
        return new Map();
      },
    };
    const at = (s: number) => `2026-11-22T09:00:0${s}Z`;
    const update = (oemId: string, value: number, time: string) => JSON.stringify({
      ...seedEvents.datapoint,
      metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
      datapoint: { ...seedEvents.datapoint.datapoint, id: `${oemId}-${value}-${time}`, value, updated_at: time, created_at: time },
    });
    const handler = makeLogger({ stores: { registry, values }, now: () => Date.UTC(2026, 10, 22, 9) });
    const blobs = await emfOf(() => handler(kinesisEvent([
      { data: update('oem-a', 1, at(1)), sequenceNumber: '1' },
      { data: update('oem-a', 2, at(2)), sequenceNumber: '2' },
      { data: update('oem-a', 2, at(2)), sequenceNumber: '3' },
      { data: update('oem-broken', 3, at(3)), sequenceNumber: '4' },
    ]), lambdaContext));
    expect(blobs).toHaveLength(1);
    const blob = blobs[0]!;
    expect(blob._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name).sort()).toEqual(
      [METRIC.logWriteFailures, METRIC.valuesLogged, METRIC.valuesRejected, METRIC.valuesSkipped].sort(),
    );
    expect([blob[METRIC.valuesLogged], blob[METRIC.logWriteFailures], blob[METRIC.valuesRejected]]).toEqual([2, 1, 0]);
    expect(blob[METRIC.valuesSkipped]).toBe(1);
  });
});
