import type { KinesisStreamBatchResponse, KinesisStreamHandler } from 'aws-lambda';
import { logOemBatch, type BatchEvent } from '../datapoint-logs/logger';
import { DatapointLogStore } from '../datapoint-logs/store';
import { ValueStore } from '../datapoint-logs/values';
import { documentClient } from '../shared/clients';
import { requireEnv } from '../shared/config';
import { decodeEvent } from '../shared/device-events';
import { logger } from '../shared/logger';

const doc = documentClient();
const table = requireEnv('DATAPOINT_LOG_TABLE');
const stores = { registry: new DatapointLogStore(doc, table), values: new ValueStore(doc, table) };

/**
 * Device events → the datapoint registry (devices, datapoints) and the datapoint logs. Invalid
 * records are skipped here (the exporter keeps them). An OEM whose writes fail is reported from its
 * first record; its writes are idempotent, so Lambda's retry from there loses and doubles nothing.
 */
export const handler: KinesisStreamHandler = async (event, context): Promise<KinesisStreamBatchResponse> => {
  logger.addContext(context);
  const byOem = new Map<string, { events: BatchEvent[]; firstSequence: string }>();
  let invalid = 0;
  for (const record of event.Records) {
    const decoded = decodeEvent(Buffer.from(record.kinesis.data, 'base64'));
    if (!decoded.ok) {
      invalid++;
      continue;
    }
    const oemId = decoded.event.metadata.oem_id;
    let batch = byOem.get(oemId);
    if (!batch) byOem.set(oemId, (batch = { events: [], firstSequence: record.kinesis.sequenceNumber }));
    batch.events.push({ event: decoded.event, arrivalMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000) });
  }

  const now = Date.now();
  const failedFrom: string[] = [];
  const totals = { datapoints: 0, devices: 0, logged: 0, skipped: 0 };
  await Promise.all([...byOem].map(async ([oemId, batch]) => {
    try {
      const outcome = await logOemBatch(oemId, batch.events, stores, now);
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += outcome[key];
    } catch (error) {
      logger.error('Datapoint log update failed', { oemId, error: error as Error });
      failedFrom.push(batch.firstSequence);
    }
  }));
  logger.info('Batch logged', { records: event.Records.length, invalid, oems: byOem.size, ...totals, failedOems: failedFrom.length });
  const retryFrom = failedFrom.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))[0];
  return { batchItemFailures: retryFrom ? [{ itemIdentifier: retryFrom }] : [] };
};
