import { S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamBatchResponse, KinesisStreamHandler } from 'aws-lambda';
import { requireEnv } from '../shared/config';
import { logger } from '../shared/logger';
import { exportBatch, type StreamRecord } from './export-batch';
import { S3ExportStore } from './s3-export-store';

const store = new S3ExportStore(new S3Client({}), requireEnv('EXPORT_BUCKET'));

/**
 * Kinesis → CSV files on S3. Invalid records go to the error prefix and never fail the batch;
 * what could not be written is reported as a batch item failure, so Lambda retries from it.
 */
export const handler: KinesisStreamHandler = async (event, context): Promise<KinesisStreamBatchResponse> => {
  logger.addContext(context);
  const records: StreamRecord[] = event.Records.map((r) => ({
    shardId: r.eventID.slice(0, r.eventID.indexOf(':')),
    sequenceNumber: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: Buffer.from(r.kinesis.data, 'base64'),
    arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
  }));
  const outcome = await exportBatch(records, store);
  const { failures, files, ...counts } = outcome;
  logger.info('Batch exported', { ...counts, files: files.length });
  for (const failure of failures) logger.error('Export write failed', { group: failure.group, error: failure.error });
  return { batchItemFailures: outcome.retryFrom ? [{ itemIdentifier: outcome.retryFrom }] : [] };
};
