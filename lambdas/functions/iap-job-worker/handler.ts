import type { Context, SQSBatchResponse, SQSEvent, SQSHandler } from 'aws-lambda';
import { datapointLogStores } from '../../adapters/dynamodb/datapoint-log-stores';
import { jobStarter } from '../../adapters/job-starter';
import { parseChunkMessage } from '../../adapters/sqs/job-queue';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import type { JobQueue, JobStore } from '../../domain/iap-jobs/ports';
import { CHUNK_LIMITS, type ChunkLimits } from '../../domain/iap-jobs/chunks';
import { runChunkMessage } from '../../domain/iap-jobs/worker';
import { ENV, requireIntegerEnv } from '../../shared/config';
import { logger } from '../../shared/logger';

export interface Deps {
  jobs: JobStore;
  queue: JobQueue;
  stores: DatapointLogStores;
  now: () => number;
  limits?: ChunkLimits;
}

export function defaultDeps(): Deps {
  const { store, queue } = jobStarter();
  const limits: ChunkLimits = {
    ...CHUNK_LIMITS,
    maxValues: requireIntegerEnv(ENV.jobChunkValues, 100, 1_000_000),
    maxDatapoints: requireIntegerEnv(ENV.jobChunkDatapoints, 10, 100_000),
  };
  return { jobs: store, queue, stores: datapointLogStores(), now: Date.now, limits };
}

/**
 * The bulk job worker, on the job FIFO queue: one chunk per message, within the invocation's time
 * (`context.getRemainingTimeInMillis()`). A message that is not a chunk message is dropped with a
 * WARN; a failing chunk is reported in `batchItemFailures`, so the queue delivers it again.
 */
export function makeHandler(deps: Deps) {
  return (async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const message = parseChunkMessage(record.body);
      if (!message) {
        logger.warn('Dropped a message that is not a job chunk', { messageId: record.messageId });
        continue;
      }
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
      try {
        const outcome = await runChunkMessage(deps, message, receiveCount, { remainingMs: () => context.getRemainingTimeInMillis() });
        logger.info('Job chunk', { jobId: message.jobId, oemId: message.oemId, chunk: message.chunk, receiveCount, outcome });
      } catch (error) {
        logger.error('Job chunk failed, to be retried', { jobId: message.jobId, oemId: message.oemId, chunk: message.chunk, receiveCount, error: error instanceof Error ? error : new Error(String(error)) });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  }) satisfies SQSHandler;
}

export const handler = makeHandler(defaultDeps());
