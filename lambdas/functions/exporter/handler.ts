import { S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamHandler } from 'aws-lambda';
import { batchResponse, streamRecords, type StreamBatchHandler } from '../../adapters/kinesis-batch';
import { S3ExportStore } from '../../adapters/s3/export-store';
import { checkPartitions } from '../../domain/export/partitions';
import type { ExportStore } from '../../domain/export/ports';
import { writeStagedBatch, type StageOptions } from '../../domain/export/stage-batch';
import { checkWindowMs } from '../../domain/export/windows';
import { ENV, requireEnv, requireIntegerEnv } from '../../shared/config';
import { logger } from '../../shared/logger';
import { count, METRIC, withMetrics } from '../../shared/metrics';

export interface Deps {
  store: ExportStore;
  /** The clock (epoch ms): the write time that picks the batch's window. */
  now: () => number;
  options: StageOptions;
}

export function defaultDeps(): Deps {
  return {
    store: new S3ExportStore(new S3Client({}), requireEnv(ENV.exportBucket)),
    now: Date.now,
    options: {
      windowMs: checkWindowMs(requireIntegerEnv(ENV.exportWindowSeconds, 60, 3600) * 1000),
      partitions: checkPartitions(requireIntegerEnv(ENV.exportCompactionPartitions, 1, 1024)),
    },
  };
}

/**
 * Stage 1 of the export: Kinesis batch → one staged object (rows grouped by compaction partition)
 * under the current window, rejected records → error files. A failed write fails the batch from its
 * lowest sequence number, so Lambda retries it whole; stage 2 drops the rows it already has.
 */
export function makeHandler(deps: Deps): StreamBatchHandler {
  return withMetrics(async (event, context) => {
    logger.addContext(context);
    const { failure, objects, ...counts } = await writeStagedBatch(streamRecords(event), deps.store, deps.now(), deps.options);
    if (failure) {
      count(METRIC.stagingFailures);
      logger.error('Staging write failed: the batch is retried', { ...counts, from: failure.from, error: failure.error });
      return batchResponse([failure.from]);
    }
    count(METRIC.eventsStaged, counts.staged);
    count(METRIC.eventsRejected, counts.invalid);
    logger.info('Batch staged', { ...counts, objects: objects.length });
    return batchResponse([]);
  });
}

export const handler = makeHandler(defaultDeps()) satisfies KinesisStreamHandler;
