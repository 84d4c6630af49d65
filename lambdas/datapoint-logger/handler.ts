import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamHandler } from 'aws-lambda';
import { registryUpdate } from '../datapoint-logs/registry';
import { DatapointLogStore } from '../datapoint-logs/store';
import { requireEnv } from '../shared/config';
import { decodeEvent, type DeviceEvent } from '../shared/device-events';
import { logger } from '../shared/logger';

const store = new DatapointLogStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), requireEnv('DATAPOINT_LOG_TABLE'));

/**
 * Device events → the datapoint registry: the datapoints each OEM has, and its devices' state,
 * health and time zone. Invalid records are skipped here (the exporter keeps them); an OEM whose
 * writes fail is reported from its first record, and its writes are idempotent on retry.
 */
export const handler: KinesisStreamHandler = async (event, context): Promise<KinesisStreamBatchResponse> => {
  logger.addContext(context);
  const byOem = new Map<string, Array<{ event: DeviceEvent; arrivalMs: number; sequenceNumber: string }>>();
  let invalid = 0;
  for (const record of event.Records) {
    const decoded = decodeEvent(Buffer.from(record.kinesis.data, 'base64'));
    if (!decoded.ok) {
      invalid++;
      continue;
    }
    const oemId = decoded.event.metadata.oem_id;
    let events = byOem.get(oemId);
    if (!events) byOem.set(oemId, (events = []));
    events.push({ event: decoded.event, arrivalMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000), sequenceNumber: record.kinesis.sequenceNumber });
  }

  const now = Date.now();
  const failedFrom: string[] = [];
  let datapoints = 0;
  let devices = 0;
  await Promise.all([...byOem].map(async ([oemId, events]) => {
    try {
      const update = registryUpdate(events);
      await store.registerDatapoints(oemId, update.datapoints, now);
      await Promise.all([...update.devices].map(([dsn, change]) => store.updateDevice(oemId, dsn, change)));
      datapoints += update.datapoints.length;
      devices += update.devices.size;
    } catch (error) {
      logger.error('Registry update failed', { oemId, error: error as Error });
      failedFrom.push(events[0]!.sequenceNumber);
    }
  }));
  logger.info('Batch registered', { records: event.Records.length, invalid, oems: byOem.size, datapoints, devices, failedOems: failedFrom.length });
  const retryFrom = failedFrom.sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0))[0];
  return { batchItemFailures: retryFrom ? [{ itemIdentifier: retryFrom }] : [] };
};
