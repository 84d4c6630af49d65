import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSHandler } from 'aws-lambda';
import { S3ExportStore } from '../../adapters/s3/export-store';
import { runCompactionTask, type TaskOptions } from '../../domain/export/compaction';
import { parseCompactionMessage } from '../../domain/export/messages';
import type { ExportStore } from '../../domain/export/ports';
import { ENV, requireEnv, requireIntegerEnv } from '../../shared/config';
import { parseWindowKey } from '../../domain/export/windows';
import { logger } from '../../shared/logger';
import { count, METRIC, seconds, withMetrics } from '../../shared/metrics';

export interface Deps {
  store: ExportStore;
  options: TaskOptions;
}

export function defaultDeps(): Deps {
  return {
    store: new S3ExportStore(new S3Client({}), requireEnv(ENV.exportBucket)),
    options: { fileSizeCapBytes: requireIntegerEnv(ENV.exportFileSizeCapBytes, 1024, 5 * 1024 ** 3) },
  };
}

export type CompactorHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The compaction FIFO queue's consumer (batch size 1): one (window, partition) task per message. A
 * failed message is reported as a batch item failure and so is every message after it, as a FIFO
 * queue requires (they would otherwise run out of their group's order); SQS redelivers them after the
 * visibility timeout and the task resumes where the crash left it.
 */
export function makeHandler(deps: Deps, now: () => number = Date.now): CompactorHandler {
  return withMetrics(async (event, context) => {
    logger.addContext(context);
    const records = event.Records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      try {
        const outcome = await runCompactionTask(parseCompactionMessage(record.body), deps.store, deps.options);
        logger.info(outcome.skipped ? 'Compaction task already done' : 'Compaction task done', { messageId: record.messageId, ...outcome });
        if (!outcome.skipped) {
          count(METRIC.eventsExported, outcome.exported);
          count(METRIC.duplicatesDropped, outcome.duplicates);
          count(METRIC.filesWritten, outcome.files);
          seconds(METRIC.exportLag, Math.max(0, (now() - (parseWindowKey(outcome.window) ?? now())) / 1000));
        }
      } catch (error) {
        count(METRIC.compactionFailures);
        logger.error('Compaction task failed: the message is retried', { messageId: record.messageId, error: error as Error });
        return { batchItemFailures: records.slice(i).map((r) => ({ itemIdentifier: r.messageId })) };
      }
    }
    return { batchItemFailures: [] };
  });
}

export const handler = makeHandler(defaultDeps()) satisfies SQSHandler;
