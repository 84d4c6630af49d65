import { ENV } from '../../../../lambdas/shared/config';

/**
 * A function's handler module builds its default dependencies when it is loaded (a missing variable
 * fails at cold start): a test that imports one to call `makeHandler` with its own dependencies
 * imports this module first, so that loading succeeds. Nothing is reached with these values.
 */
const values: Partial<Record<(typeof ENV)[keyof typeof ENV], string>> = {
  [ENV.exportBucket]: 'unit-test-export-bucket',
  [ENV.datapointLogTable]: 'unit-test-datapoint-logs',
  [ENV.lockTable]: 'unit-test-locks',
  [ENV.iamPath]: '/UnitTest/oem-export/',
  [ENV.secretPrefix]: 'UnitTest/oem-export/',
  [ENV.exportUserBoundary]: 'arn:aws:iam::000000000000:policy/UnitTest-ExportUserBoundary',
  [ENV.exportWindowSeconds]: '300',
  [ENV.exportCompactionPartitions]: '16',
  [ENV.exportCompactionDelaySeconds]: '15',
  [ENV.exportFileSizeCapBytes]: String(64 * 1024 * 1024),
  [ENV.jobChunkValues]: '20000',
  [ENV.jobChunkDatapoints]: '2000',
  [ENV.rateLimitTable]: 'unit-test-rate-limits',
  [ENV.jobQueueUrl]: 'http://127.0.0.1:9/000000000000/unit-test-jobs.fifo',
  [ENV.compactionQueueUrl]: 'http://127.0.0.1:9/000000000000/unit-test-compaction.fifo',
};
for (const [name, value] of Object.entries(values)) process.env[name] ??= value;
