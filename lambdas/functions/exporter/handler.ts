import { S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamHandler } from 'aws-lambda';
import { batchResponse, streamRecords, type StreamBatchHandler } from '../../adapters/kinesis-batch';
import { S3ExportStore } from '../../adapters/s3/export-store';
import { exportBatch, type ExportStore } from '../../domain/export/export-batch';
import { ENV, requireEnv } from '../../shared/config';
import { logger } from '../../shared/logger';

export interface Deps {
  store: ExportStore;
}

export function defaultDeps(): Deps {
  return { store: new S3ExportStore(new S3Client({}), requireEnv(ENV.exportBucket)) };
}

/**
 * Kinesis → CSV files on S3. Invalid records go to the error prefix and never fail the batch;
 * what could not be written is reported as a batch item failure, so Lambda retries from it.
 */
export function makeHandler(deps: Deps): StreamBatchHandler {
  return async (event, context) => {
    logger.addContext(context);
    const { failures, files, ...counts } = await exportBatch(streamRecords(event), deps.store);
    logger.info('Batch exported', { ...counts, files: files.length });
    for (const failure of failures) logger.error('Export write failed', { group: failure.group, error: failure.error });
    return batchResponse(failures.map((failure) => failure.from));
  };
}

export const handler = makeHandler(defaultDeps()) satisfies KinesisStreamHandler;
