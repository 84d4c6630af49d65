import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, ScheduledEvent, ScheduledHandler } from 'aws-lambda';
import { S3ExportStore } from '../../adapters/s3/export-store';
import { SqsCompactionQueue } from '../../adapters/sqs/compaction-queue';
import { planCompaction, planningDelay, type PlannerOptions } from '../../domain/export/planner';
import type { CompactionQueue, ExportStore } from '../../domain/export/ports';
import { checkWindowMs } from '../../domain/export/windows';
import { ENV, requireEnv, requireIntegerEnv } from '../../shared/config';
import { logger } from '../../shared/logger';
import { count, METRIC, withMetrics } from '../../shared/metrics';

export interface Deps {
  store: ExportStore;
  queue: CompactionQueue;
  /** The clock (epoch ms). */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  options: PlannerOptions;
}

export function defaultDeps(): Deps {
  return {
    store: new S3ExportStore(new S3Client({}), requireEnv(ENV.exportBucket)),
    queue: new SqsCompactionQueue(new SQSClient({}), requireEnv(ENV.compactionQueueUrl)),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    options: {
      windowMs: checkWindowMs(requireIntegerEnv(ENV.exportWindowSeconds, 60, 3600) * 1000),
      graceMs: requireIntegerEnv(ENV.exportCompactionDelaySeconds, 0, 300) * 1000,
    },
  };
}

export type PlannerHandler = (event: ScheduledEvent, context: Context) => Promise<void>;

/**
 * Every minute (EventBridge): waits until the grace period past the minute, then plans every window
 * that closed and has not been planned. A failure is thrown: the next minute's run picks it up.
 */
export function makeHandler(deps: Deps): PlannerHandler {
  return withMetrics(async (_event, context) => {
    logger.addContext(context);
    const delay = planningDelay(deps.now(), deps.options.graceMs);
    if (delay > 0) await deps.sleep(delay);
    const planned = await planCompaction(deps.store, deps.queue, deps.now(), deps.options);
    for (const window of planned) logger.info('Window planned', { ...window });
    count(METRIC.windowsPlanned, planned.length);
    count(METRIC.compactionTasks, planned.reduce((n, w) => n + w.partitions, 0));
    logger.info('Compaction planning done', {
      windows: planned.length,
      objects: planned.reduce((n, w) => n + w.objects, 0),
      leftovers: planned.reduce((n, w) => n + w.leftovers, 0),
      tasks: planned.reduce((n, w) => n + w.partitions, 0),
    });
  });
}

export const handler = makeHandler(defaultDeps()) satisfies ScheduledHandler;
