import '../function-env';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { makeHandler } from '../../../../../lambdas/functions/export-compactor/handler';
import { messageBody } from '../../../../../lambdas/domain/export/messages';
import { planCompaction } from '../../../../../lambdas/domain/export/planner';
import { writeStagedBatch } from '../../../../../lambdas/domain/export/stage-batch';
import { logger } from '../../../../../lambdas/shared/logger';
import { streamRecord } from '../../../../helpers/export-harness';
import { MemoryCompactionQueue } from '../../../../helpers/memory-compaction-queue';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';
import { seedEvents } from '../../domain/export/seed-events';
import { lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const sqsRecord = (messageId: string, body: string): SQSRecord => ({
  messageId, receiptHandle: `r-${messageId}`, body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:compaction.fifo', awsRegion: 'us-east-1',
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: 'p0', MessageDeduplicationId: 'd' },
  messageAttributes: {},
});

async function plannedStore(): Promise<{ store: MemoryExportStore; messages: string[] }> {
  const store = new MemoryExportStore();
  const queue = new MemoryCompactionQueue();
  const oems = ['oem-a', 'oem-b', 'oem-c', 'oem-d'];
  const records = oems.map((oem) => streamRecord({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: oem } }));
  await writeStagedBatch(records, store, Date.UTC(2026, 10, 22, 9, 31), { windowMs: 5 * 60_000, partitions: 4 });
  await planCompaction(store, queue, Date.UTC(2026, 10, 22, 9, 35, 15), { windowMs: 5 * 60_000, graceMs: 15_000 });
  return { store, messages: queue.accepted.filter((m) => m.window === '20261122T0930Z').map(messageBody) };
}

describe('the export compactor', () => {
  it('runs the task of each message and reports no failure', async () => {
    const { store, messages } = await plannedStore();
    const event: SQSEvent = { Records: messages.map((body, i) => sqsRecord(`m${i}`, body)) };
    expect(await makeHandler({ store, options: { fileSizeCapBytes: 1 << 20 } })(event, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect(store.keys().filter((k) => k.endsWith('.csv'))).toHaveLength(4);
    expect(store.keys('_staging/')).toEqual([]);
  });

  it('reports a failed message and every message after it (FIFO order), and the redelivery completes', async () => {
    const { store, messages } = await plannedStore();
    expect(messages.length).toBeGreaterThan(1);
    const event: SQSEvent = { Records: [sqsRecord('m0', messages[0]!), sqsRecord('m1', 'not a message'), ...messages.slice(1).map((b, i) => sqsRecord(`m${i + 2}`, b))] };
    const handler = makeHandler({ store, options: { fileSizeCapBytes: 1 << 20 } });
    const reply = await handler(event, lambdaContext);
    expect(reply.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.slice(1).map((r) => r.messageId));

    store.fail({ match: (c) => c.op === 'createIfAbsent' && c.key.endsWith('.csv'), times: 1 });
    const retry = await handler({ Records: messages.map((b, i) => sqsRecord(`r${i}`, b)) }, lambdaContext);
    expect(retry.batchItemFailures.length).toBeGreaterThan(0);
    expect(await handler({ Records: messages.map((b, i) => sqsRecord(`s${i}`, b)) }, lambdaContext)).toEqual({ batchItemFailures: [] });
    expect(store.keys().filter((k) => k.endsWith('.csv'))).toHaveLength(4);
  });
});
