import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { SEND_BATCH, SqsCompactionQueue } from '../../../../../lambdas/adapters/sqs/compaction-queue';
import type { CompactionMessage } from '../../../../../lambdas/domain/export/ports';
import { fakeSqs } from '../../../../helpers/fake-aws-http';

const QUEUE_URL = 'http://127.0.0.1:9/000000000000/compaction.fifo';

function setup() {
  const http = fakeSqs();
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: http as unknown as SQSClientConfig['requestHandler'],
  });
  return { http, queue: new SqsCompactionQueue(sqs, QUEUE_URL, { retryDelayMs: 1 }) };
}

const messages = (n: number): CompactionMessage[] => Array.from({ length: n }, (_, partition) => ({ window: '20261122T0930Z', partition }));

describe('SqsCompactionQueue', () => {
  it('sends 10 entries per SendMessageBatch, grouped by partition, deduplicated by window and partition', async () => {
    const { http, queue } = setup();
    await queue.send(messages(23));
    expect(http.calls.map((c) => c.length)).toEqual([SEND_BATCH, SEND_BATCH, 3]);
    expect(http.received).toHaveLength(23);
    expect(http.received[3]).toEqual({
      Id: 'm3',
      MessageBody: JSON.stringify({ window: '20261122T0930Z', partition: 3 }),
      MessageGroupId: 'p3',
      MessageDeduplicationId: '20261122T0930Z-3',
    });
  });

  it('sends again only the entries SQS reports failed, until they are queued', async () => {
    const { http, queue } = setup();
    http.failEntries = (call, entry) => (call < 2 && (entry.Id === 'm2' || entry.Id === 'm7') ? { code: 'InternalError', senderFault: false } : undefined);
    await queue.send(messages(10));
    expect(http.calls.map((c) => c.map((e) => e.Id))).toEqual([
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'],
      ['m2', 'm7'],
      ['m2', 'm7'],
    ]);
    expect(http.received.map((e) => JSON.parse(e.MessageBody).partition).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('fails when an entry is refused by the sender\'s fault, or keeps failing', async () => {
    const refused = setup();
    refused.http.failEntries = (_, entry) => (entry.Id === 'm1' ? { code: 'InvalidParameterValue', senderFault: true } : undefined);
    await expect(refused.queue.send(messages(3))).rejects.toThrow(/InvalidParameterValue/);
    expect(refused.http.calls).toHaveLength(1);

    const failing = setup();
    failing.http.failEntries = () => ({ code: 'InternalError', senderFault: false });
    await expect(failing.queue.send(messages(2))).rejects.toThrow(/refused 2 compaction message/);
    expect(failing.http.calls).toHaveLength(5);
  });

  it('is retried by the SDK when SQS answers 500', async () => {
    const { http, queue } = setup();
    http.failNext(1, 500, 'InternalError');
    await queue.send(messages(1));
    expect(http.received).toHaveLength(1);
  });
});
