import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SqsError } from '../../../../../infra/local-cloud/services/sqs/errors';
import { DEDUPLICATION_WINDOW_MS, md5OfMessageAttributes } from '../../../../../infra/local-cloud/services/sqs/messages';
import { LocalSqs } from '../../../../../infra/local-cloud/services/sqs/models';

const ACCOUNT = '000000000000';
const FIFO = { FifoQueue: 'true' };

describe('SQS queues and messages (models)', () => {
  let dir: string;
  let file: string;
  let now: number;
  let sqs: LocalSqs;
  const open = () => new LocalSqs(file, 'us-east-1', ACCOUNT, () => now);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sqs-'));
    file = path.join(dir, 'sqs.json');
    now = Date.UTC(2026, 11, 2, 10, 0, 0);
    sqs = open();
  });
  afterEach(async () => {
    await sqs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const errorOf = (run: () => unknown): string => {
    try {
      run();
      return 'ok';
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      return `${error.status} ${error.type}: ${error.message}`;
    }
  };
  const bodies = (name: string, max = 10) => sqs.receive(name, { maxMessages: max }).map((m) => m.body);
  const sendFifo = (name: string, group: string, body: string, dedup = body) => sqs.sendMessage(name, { body, groupId: group, deduplicationId: dedup });

  describe('FIFO', () => {
    beforeEach(() => {
      sqs.createQueue('tasks.fifo', FIFO);
    });

    it('hands out a group in order, and nothing more of a group while one of its messages is in flight', () => {
      for (const [group, body] of [['p1', 'a1'], ['p2', 'b1'], ['p1', 'a2'], ['p2', 'b2'], ['p1', 'a3']]) sendFifo('tasks.fifo', group!, body!);
      const first = sqs.receive('tasks.fifo', { maxMessages: 1 });
      expect(first.map((m) => m.body)).toEqual(['a1']);
      expect(bodies('tasks.fifo', 1)).toEqual(['b1']); // p1 is blocked by a1 in flight
      expect(bodies('tasks.fifo', 1)).toEqual([]); // both groups blocked
      sqs.deleteMessage('tasks.fifo', first[0]!.receiptHandle);
      expect(bodies('tasks.fifo', 1)).toEqual(['a2']);
      expect(bodies('tasks.fifo', 1)).toEqual([]);
    });

    it('fills a batch with as many messages of one group as it can, in order, then other groups', () => {
      for (const [group, body] of [['p1', 'a1'], ['p2', 'b1'], ['p1', 'a2'], ['p2', 'b2'], ['p1', 'a3']]) sendFifo('tasks.fifo', group!, body!);
      expect(bodies('tasks.fifo', 4)).toEqual(['a1', 'a2', 'a3', 'b1']);
      expect(bodies('tasks.fifo', 4)).toEqual([]); // both groups have a message in flight
    });

    it('numbers messages in increasing sequence numbers and reports group and deduplication ids', () => {
      const one = sendFifo('tasks.fifo', 'p1', 'x', 'W1-p1');
      const two = sendFifo('tasks.fifo', 'p1', 'y', 'W2-p1');
      expect(BigInt(two.sequenceNumber!)).toBeGreaterThan(BigInt(one.sequenceNumber!));
      const [message] = sqs.receive('tasks.fifo', { maxMessages: 1 });
      expect(message!.attributes).toMatchObject({
        MessageGroupId: 'p1', MessageDeduplicationId: 'W1-p1', SequenceNumber: one.sequenceNumber, ApproximateReceiveCount: '1',
        SentTimestamp: String(now), ApproximateFirstReceiveTimestamp: String(now), SenderId: ACCOUNT,
      });
    });

    it('drops a message whose deduplication id was seen in the last five minutes, and answers as for the first', () => {
      const first = sendFifo('tasks.fifo', 'p1', 'plan', '202612021000-3');
      now += DEDUPLICATION_WINDOW_MS - 1;
      const again = sendFifo('tasks.fifo', 'p1', 'plan', '202612021000-3');
      expect(again.messageId).toBe(first.messageId);
      expect(again.sequenceNumber).toBe(first.sequenceNumber);
      expect(sqs.getQueueAttributes('tasks.fifo', ['ApproximateNumberOfMessages'])).toEqual({ ApproximateNumberOfMessages: '1' });
      // Deleting the message does not end the window.
      sqs.deleteMessage('tasks.fifo', sqs.receive('tasks.fifo', { maxMessages: 1 })[0]!.receiptHandle);
      expect(sendFifo('tasks.fifo', 'p1', 'plan', '202612021000-3').messageId).toBe(first.messageId);
      expect(bodies('tasks.fifo')).toEqual([]);
      now = now - (DEDUPLICATION_WINDOW_MS - 1) + DEDUPLICATION_WINDOW_MS;
      const later = sendFifo('tasks.fifo', 'p1', 'plan', '202612021000-3');
      expect(later.messageId).not.toBe(first.messageId);
      expect(bodies('tasks.fifo')).toEqual(['plan']);
    });

    it('deduplicates by the body when ContentBasedDeduplication is on, and per group when the scope is messageGroup', () => {
      sqs.createQueue('content.fifo', { ...FIFO, ContentBasedDeduplication: 'true', DeduplicationScope: 'messageGroup' });
      const a = sqs.sendMessage('content.fifo', { body: 'same', groupId: 'g1' });
      expect(sqs.sendMessage('content.fifo', { body: 'same', groupId: 'g1' }).messageId).toBe(a.messageId);
      expect(sqs.sendMessage('content.fifo', { body: 'same', groupId: 'g2' }).messageId).not.toBe(a.messageId);
      expect(sqs.sendMessage('content.fifo', { body: 'other', groupId: 'g1' }).messageId).not.toBe(a.messageId);
      expect(bodies('content.fifo').sort()).toEqual(['other', 'same', 'same']);
    });

    it('requires a group id, and a deduplication id unless content-based deduplication is on', () => {
      expect(errorOf(() => sqs.sendMessage('tasks.fifo', { body: 'x', deduplicationId: 'd' }))).toBe('400 MissingParameter: The request must contain the parameter MessageGroupId.');
      expect(errorOf(() => sqs.sendMessage('tasks.fifo', { body: 'x', groupId: 'g' })))
        .toBe('400 InvalidParameterValue: The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      expect(errorOf(() => sqs.sendMessage('tasks.fifo', { body: 'x', groupId: 'g', deduplicationId: 'd', delaySeconds: 5 })))
        .toMatch(/^400 InvalidParameterValue: Value 5 for parameter DelaySeconds is invalid/);
      expect(errorOf(() => sqs.sendMessage('tasks.fifo', { body: 'x', groupId: 'g g', deduplicationId: 'd' }))).toMatch(/MessageGroupId is invalid/);
    });

    it('refuses a receipt handle whose visibility timeout has ended', () => {
      sendFifo('tasks.fifo', 'p1', 'a');
      const [message] = sqs.receive('tasks.fifo', { maxMessages: 1, visibilityTimeout: 10 });
      now += 10_000;
      expect(errorOf(() => sqs.deleteMessage('tasks.fifo', message!.receiptHandle))).toMatch(/^400 InvalidParameterValue: .*Reason: The receipt handle has expired\.$/);
      const [again] = sqs.receive('tasks.fifo', { maxMessages: 1 });
      expect(again!.attributes.ApproximateReceiveCount).toBe('2');
      expect(errorOf(() => sqs.deleteMessage('tasks.fifo', message!.receiptHandle))).toMatch(/The receipt handle has expired/);
      sqs.deleteMessage('tasks.fifo', again!.receiptHandle);
      expect(bodies('tasks.fifo')).toEqual([]);
    });
  });

  describe('visibility timeout', () => {
    beforeEach(() => {
      sqs.createQueue('standard', { VisibilityTimeout: '30' });
    });

    it('hides a received message for the timeout, then hands it out again with a higher receive count', () => {
      sqs.sendMessage('standard', { body: 'm' });
      const [first] = sqs.receive('standard', { maxMessages: 10 });
      expect(first!.attributes.ApproximateReceiveCount).toBe('1');
      now += 29_999;
      expect(bodies('standard')).toEqual([]);
      expect(sqs.getQueueAttributes('standard', ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'])).toEqual({
        ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1',
      });
      now += 1;
      const [second] = sqs.receive('standard', { maxMessages: 10 });
      expect(second!.messageId).toBe(first!.messageId);
      expect(second!.receiptHandle).not.toBe(first!.receiptHandle);
      expect(second!.attributes).toMatchObject({ ApproximateReceiveCount: '2', ApproximateFirstReceiveTimestamp: String(now - 30_000) });
      // A stale handle of a standard queue is accepted and deletes nothing.
      sqs.deleteMessage('standard', first!.receiptHandle);
      expect(sqs.getQueueAttributes('standard', ['ApproximateNumberOfMessagesNotVisible']).ApproximateNumberOfMessagesNotVisible).toBe('1');
      sqs.deleteMessage('standard', second!.receiptHandle);
      sqs.deleteMessage('standard', second!.receiptHandle); // deleting twice is fine
      now += 60_000;
      expect(bodies('standard')).toEqual([]);
    });

    it('changes the visibility of an in-flight message, and refuses one that is not in flight', () => {
      sqs.sendMessage('standard', { body: 'm' });
      const [message] = sqs.receive('standard', { maxMessages: 1, visibilityTimeout: 600 });
      sqs.changeMessageVisibility('standard', message!.receiptHandle, 0);
      const [again] = sqs.receive('standard', { maxMessages: 1 });
      expect(again!.messageId).toBe(message!.messageId);
      expect(errorOf(() => sqs.changeMessageVisibility('standard', message!.receiptHandle, 10)))
        .toMatch(/^400 InvalidParameterValue: .*Reason: Message does not exist or is not available for visibility timeout change\.$/);
      sqs.changeMessageVisibility('standard', again!.receiptHandle, 60);
      now += 59_000;
      expect(bodies('standard')).toEqual([]);
      now += 1_000;
      expect(errorOf(() => sqs.changeMessageVisibility('standard', again!.receiptHandle, 10))).toBe('400 MessageNotInflight: The message referred to is not in flight.');
      expect(errorOf(() => sqs.changeMessageVisibility('standard', again!.receiptHandle, 43_201))).toMatch(/Must be between 0 and 43200/);
      expect(errorOf(() => sqs.deleteMessage('standard', 'not-a-handle'))).toBe('400 ReceiptHandleIsInvalid: The input receipt handle "not-a-handle" is not a valid receipt handle.');
    });

    it('delays messages by the queue\'s or the message\'s DelaySeconds', () => {
      sqs.createQueue('delayed', { DelaySeconds: '5' });
      sqs.sendMessage('delayed', { body: 'queue delay' });
      sqs.sendMessage('standard', { body: 'own delay', delaySeconds: 2 });
      expect(sqs.getQueueAttributes('standard', ['ApproximateNumberOfMessagesDelayed'])).toEqual({ ApproximateNumberOfMessagesDelayed: '1' });
      expect(bodies('delayed')).toEqual([]);
      expect(bodies('standard')).toEqual([]);
      now += 2_000;
      expect(bodies('standard')).toEqual(['own delay']);
      now += 3_000;
      expect(bodies('delayed')).toEqual(['queue delay']);
    });
  });

  describe('redrive', () => {
    it('moves a message received maxReceiveCount times to the dead-letter queue, which unblocks its FIFO group', () => {
      const dlq = sqs.createQueue('tasks-dlq.fifo', FIFO);
      sqs.createQueue('tasks.fifo', { ...FIFO, VisibilityTimeout: '60', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
      sendFifo('tasks.fifo', 'p1', 'poison', 'd1');
      sendFifo('tasks.fifo', 'p1', 'next', 'd2');
      for (let i = 1; i <= 2; i++) {
        const [m] = sqs.receive('tasks.fifo', { maxMessages: 1 });
        expect([m!.body, m!.attributes.ApproximateReceiveCount]).toEqual(['poison', String(i)]);
        now += 60_000; // not deleted: back after the visibility timeout
      }
      // The third receive moves it instead and hands out the next message of the group.
      const [next] = sqs.receive('tasks.fifo', { maxMessages: 1 });
      expect(next!.body).toBe('next');
      const [dead] = sqs.receive('tasks-dlq.fifo', { maxMessages: 10 });
      expect(dead!.body).toBe('poison');
      expect(dead!.attributes).toMatchObject({
        MessageGroupId: 'p1', MessageDeduplicationId: 'd1', ApproximateReceiveCount: '1',
        DeadLetterQueueSourceArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:tasks.fifo`,
      });
    });

    it('checks the redrive policy: the target must exist and be of the same type', () => {
      const standard = sqs.createQueue('dlq');
      expect(errorOf(() => sqs.createQueue('q.fifo', { ...FIFO, RedrivePolicy: JSON.stringify({ deadLetterTargetArn: standard.arn, maxReceiveCount: 3 }) })))
        .toMatch(/Reason: Dead-letter target must be of the same type as the source queue\.$/);
      expect(errorOf(() => sqs.createQueue('q', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${standard.arn}-gone`, maxReceiveCount: 3 }) })))
        .toMatch(/Reason: Dead-letter target does not exist\.$/);
      expect(errorOf(() => sqs.createQueue('q', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: standard.arn, maxReceiveCount: 0 }) })))
        .toMatch(/^400 InvalidAttributeValue: Invalid value for the parameter RedrivePolicy\./);
    });
  });

  describe('queues', () => {
    it('creates a queue once: same attributes find it, different ones are refused', () => {
      const queue = sqs.createQueue('q', { VisibilityTimeout: '45' });
      expect(queue.arn).toBe(`arn:aws:sqs:us-east-1:${ACCOUNT}:q`);
      expect(sqs.createQueue('q', { VisibilityTimeout: '45' })).toBe(queue);
      expect(sqs.createQueue('q')).toBe(queue);
      expect(errorOf(() => sqs.createQueue('q', { VisibilityTimeout: '46' })))
        .toBe('400 QueueNameExists: A queue already exists with the same name and a different value for attribute VisibilityTimeout');
      expect(errorOf(() => sqs.createQueue('q.fifo'))).toMatch(/^400 InvalidParameterValue: Can only include alphanumeric characters/);
      expect(errorOf(() => sqs.createQueue('q', FIFO))).toMatch(/must end with \.fifo suffix/);
      expect(errorOf(() => sqs.createQueue('r', { ContentBasedDeduplication: 'true' }))).toBe('400 InvalidAttributeName: Unknown Attribute ContentBasedDeduplication.');
      expect(errorOf(() => sqs.createQueue('r', { VisibilityTimeout: '43201' }))).toMatch(/^400 InvalidAttributeValue: Invalid value for the parameter VisibilityTimeout\./);
      expect(errorOf(() => sqs.queue('gone'))).toBe('400 QueueDoesNotExist: The specified queue does not exist.');
    });

    it('answers attributes with their defaults, FIFO ones on FIFO queues only', () => {
      sqs.createQueue('q');
      sqs.createQueue('t.fifo', { ...FIFO, KmsMasterKeyId: 'alias/aws/sqs' });
      const standard = sqs.getQueueAttributes('q', ['All']);
      expect(standard).toMatchObject({
        VisibilityTimeout: '30', MessageRetentionPeriod: '345600', MaximumMessageSize: '262144', DelaySeconds: '0',
        ReceiveMessageWaitTimeSeconds: '0', SqsManagedSseEnabled: 'true', QueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:q`,
      });
      expect(standard).not.toHaveProperty('FifoQueue');
      expect(sqs.getQueueAttributes('t.fifo', ['FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'KmsMasterKeyId'])).toEqual({
        FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue', KmsMasterKeyId: 'alias/aws/sqs',
      });
      expect(errorOf(() => sqs.getQueueAttributes('q', ['Nope']))).toBe('400 InvalidAttributeName: Unknown Attribute Nope.');
    });

    it('purges a queue at most once a minute', () => {
      sqs.createQueue('q');
      sqs.sendMessage('q', { body: 'm' });
      sqs.purgeQueue('q');
      expect(bodies('q')).toEqual([]);
      expect(errorOf(() => sqs.purgeQueue('q'))).toBe('403 PurgeQueueInProgress: Only one PurgeQueue operation on q is allowed every 60 seconds.');
      now += 60_000;
      sqs.purgeQueue('q');
    });

    it('drops messages older than the retention period', () => {
      sqs.createQueue('q', { MessageRetentionPeriod: '60' });
      sqs.sendMessage('q', { body: 'old' });
      now += 30_000;
      sqs.sendMessage('q', { body: 'new' });
      now += 30_000;
      expect(bodies('q')).toEqual(['new']);
    });
  });

  describe('messages', () => {
    beforeEach(() => {
      sqs.createQueue('q', { MaximumMessageSize: '1024' });
    });

    it('checks bodies and attributes as SQS does', () => {
      expect(errorOf(() => sqs.sendMessage('q', { body: '' }))).toBe('400 InvalidParameterValue: The request must contain a non-empty message body.');
      expect(errorOf(() => sqs.sendMessage('q', { body: 'a\u0000b' }))).toMatch(/^400 InvalidMessageContents: Invalid characters found/);
      expect(errorOf(() => sqs.sendMessage('q', { body: 'x'.repeat(1025) }))).toBe('400 InvalidParameterValue: One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.');
      expect(errorOf(() => sqs.sendMessage('q', { body: 'x', deduplicationId: 'd' }))).toMatch(/not valid for this queue type/);
      expect(errorOf(() => sqs.sendMessage('q', { body: 'x', messageAttributes: { n: { DataType: 'Number', StringValue: 'ten' } } })))
        .toBe("400 InvalidParameterValue: Can't cast the value of message (user) attribute 'n' to a number.");
      expect(errorOf(() => sqs.sendMessage('q', { body: 'x', messageAttributes: { 'AWS.x': { DataType: 'String', StringValue: 'v' } } }))).toMatch(/attribute 'AWS.x' is invalid/);
      expect(errorOf(() => sqs.sendMessage('q', { body: 'x', messageAttributes: { s: { DataType: 'String' } } }))).toMatch(/must contain non-empty message attribute value/);
      const body = 'emoji 🚀, tab\t, CR\r';
      expect(sqs.sendMessage('q', { body }).md5OfMessageBody).toBe(createHash('md5').update(body).digest('hex'));
    });

    it('computes the MD5 of message attributes as SQS does', () => {
      // Reference value from an independent implementation of SQS's algorithm.
      expect(md5OfMessageAttributes({
        customer: { DataType: 'String', StringValue: 'acme' },
        count: { DataType: 'Number', StringValue: '42' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2]).toString('base64') },
      })).toBe('45d3fdd11e192c0b5041b93264ef4b9c');
      const sent = sqs.sendMessage('q', { body: 'x', messageAttributes: { customer: { DataType: 'String', StringValue: 'acme' } } });
      const [received] = sqs.receive('q', { maxMessages: 1 });
      expect(received!.md5OfMessageAttributes).toBe(sent.md5OfMessageAttributes);
      expect(received!.messageAttributes).toEqual({ customer: { DataType: 'String', StringValue: 'acme' } });
    });

    it('wakes a waiting receiver when a message arrives', async () => {
      const started = Date.now();
      const waiting = sqs.waitForMessages('q', 5_000);
      setTimeout(() => sqs.sendMessage('q', { body: 'm' }), 20);
      await waiting;
      expect(Date.now() - started).toBeLessThan(2_000);
      const aborted = new AbortController();
      const second = sqs.waitForMessages('q', 5_000, aborted.signal);
      aborted.abort();
      await second;
    });
  });

  describe('persistence', () => {
    it('keeps queues, messages in flight and deduplication ids across a restart', async () => {
      const dlq = sqs.createQueue('dlq.fifo', FIFO);
      sqs.createQueue('tasks.fifo', { ...FIFO, RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }) });
      sendFifo('tasks.fifo', 'p1', 'a1');
      sendFifo('tasks.fifo', 'p1', 'a2');
      sendFifo('tasks.fifo', 'p2', 'b1');
      const [inFlight] = sqs.receive('tasks.fifo', { maxMessages: 1, visibilityTimeout: 120 });
      await sqs.flush();
      await sqs.close();
      expect(JSON.parse(await readFile(file, 'utf8')).queues).toHaveLength(2);

      sqs = open();
      expect(sqs.listQueues().map((q) => q.name)).toEqual(['dlq.fifo', 'tasks.fifo']);
      expect(bodies('tasks.fifo', 10)).toEqual(['b1']); // p1 still blocked by a1 in flight
      expect(sendFifo('tasks.fifo', 'p1', 'a1').messageId).toBe(inFlight!.messageId); // deduplicated across the restart
      sqs.deleteMessage('tasks.fifo', inFlight!.receiptHandle); // the handle still works
      expect(bodies('tasks.fifo', 10)).toEqual(['a2']);
    });

    it('writes a burst of changes whole', async () => {
      sqs.createQueue('q');
      for (let i = 0; i < 200; i++) sqs.sendMessage('q', { body: `m${i}` });
      await sqs.flush();
      const saved = JSON.parse(await readFile(file, 'utf8')) as { queues: Array<{ messages: unknown[] }> };
      expect(saved.queues[0]!.messages).toHaveLength(200);
    });
  });
});
