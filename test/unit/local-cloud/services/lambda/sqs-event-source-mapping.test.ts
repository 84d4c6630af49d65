import type { SQSEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployedStack } from '../../../../../infra/local-cloud/cloudformation/template';
import type { InvocationResult } from '../../../../../infra/local-cloud/services/lambda/runtime';
import {
  interpretSqsResult, SqsEventSourceMapping, sqsMappings, type SqsMappingSettings,
} from '../../../../../infra/local-cloud/services/lambda/sqs-event-source-mapping';
import { LocalSqs } from '../../../../../infra/local-cloud/services/sqs/models';

const ACCOUNT = '000000000000';
const ok = (payload: unknown = null): InvocationResult => ({ ok: true, payload, requestId: 'r' });
const failed = (errorMessage = 'boom'): InvocationResult => ({ ok: false, error: { errorType: 'Error', errorMessage, trace: [] }, requestId: 'r' });

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('interpretSqsResult', () => {
  const messages = [{ messageId: 'a' }, { messageId: 'b' }];

  it('reads function errors, empty and partial batch item failures as Lambda does', () => {
    expect(interpretSqsResult(failed(), messages, true)).toEqual({ kind: 'error', errorType: 'Error', errorMessage: 'boom' });
    expect(interpretSqsResult(ok({ batchItemFailures: [{ itemIdentifier: 'a' }] }), messages, false)).toEqual({ kind: 'success' });
    for (const payload of [null, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(interpretSqsResult(ok(payload), messages, true)).toEqual({ kind: 'success' });
    }
    expect(interpretSqsResult(ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), messages, true)).toEqual({ kind: 'partial', failedMessageIds: new Set(['b']) });
    for (const bad of [[{ itemIdentifier: 'zzz' }], [{ itemIdentifier: '' }], [{}], 'a']) {
      expect(interpretSqsResult(ok({ batchItemFailures: bad }), messages, true)).toMatchObject({ kind: 'error', errorType: 'InvalidResponse' });
    }
  });
});

describe('sqsMappings', () => {
  it('reads SQS mappings from the template with Lambda defaults, and leaves Kinesis ones out', () => {
    const stack = new DeployedStack({
      Resources: {
        Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'compaction' } },
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: {
            EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Fn' }, BatchSize: 1,
            FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 },
          },
        },
        Defaults: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Fn' } } },
        Disabled: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Fn' }, Enabled: false } },
        Stream: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', FunctionName: { Ref: 'Fn' } } },
      },
    }, { stackName: 'S', region: 'us-east-1', accountId: ACCOUNT, apiEndpoint: '' });
    const [mapping, defaults, ...rest] = sqsMappings(stack);
    const queueName = stack.getAtt('Queue', 'QueueName');
    expect(mapping).toEqual({
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/),
      functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:compaction`,
      queueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:${queueName}`,
      queueName,
      batchSize: 1,
      maxBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      maximumConcurrency: 2,
      region: 'us-east-1',
    });
    expect(defaults).toMatchObject({ batchSize: 10, reportBatchItemFailures: false });
    expect(defaults).not.toHaveProperty('maximumConcurrency');
    expect(rest).toEqual([]);
  });
});

describe('SqsEventSourceMapping', () => {
  let dir: string;
  let sqs: LocalSqs;
  let mapping: SqsEventSourceMapping | undefined;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sqs-esm-'));
    sqs = new LocalSqs(path.join(dir, 'sqs.json'), 'us-east-1', ACCOUNT);
    logs.length = 0;
  });
  afterEach(async () => {
    await mapping?.stop();
    mapping = undefined;
    await sqs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settingsFor = (queueName: string, overrides: Partial<SqsMappingSettings> = {}): SqsMappingSettings => ({
    uuid: '00000000-0000-4000-a000-000000000000',
    functionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:compaction`,
    queueArn: sqs.queue(queueName).arn,
    queueName,
    batchSize: 1,
    maxBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    region: 'us-east-1',
    ...overrides,
  });
  const run = (settings: SqsMappingSettings, invoke: (event: SQSEvent) => Promise<InvocationResult>, functionConcurrency = 4) => {
    mapping = new SqsEventSourceMapping(settings, { queues: sqs, invoke, log: (line) => logs.push(line), functionConcurrency, longPollMs: 200 });
    mapping.start();
  };
  const left = (name: string) => {
    const a = sqs.getQueueAttributes(name, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
  };

  it('invokes with the event Lambda builds, and deletes the messages of a successful batch', async () => {
    sqs.createQueue('tasks.fifo', { FifoQueue: 'true' });
    const sent = sqs.sendMessage('tasks.fifo', {
      body: '{"window":"202612021000","partition":3}', groupId: 'p3', deduplicationId: '202612021000-3',
      messageAttributes: { kind: { DataType: 'String', StringValue: 'compaction' } },
    });
    const events: SQSEvent[] = [];
    run(settingsFor('tasks.fifo'), async (event) => {
      events.push(event);
      return ok();
    });
    await until(() => events.length === 1 && left('tasks.fifo') === 0);
    const [record] = events[0]!.Records;
    expect(record).toEqual({
      messageId: sent.messageId,
      receiptHandle: expect.any(String),
      body: '{"window":"202612021000","partition":3}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: ACCOUNT,
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        SequenceNumber: sent.sequenceNumber,
        MessageDeduplicationId: '202612021000-3',
        MessageGroupId: 'p3',
      },
      messageAttributes: { kind: { stringValue: 'compaction', stringListValues: [], binaryListValues: [], dataType: 'String' } },
      md5OfBody: sent.md5OfMessageBody,
      md5OfMessageAttributes: sent.md5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:tasks.fifo`,
      awsRegion: 'us-east-1',
    });
  });

  it('batches up to BatchSize and waits the batching window to fill a batch', async () => {
    sqs.createQueue('q');
    for (let i = 0; i < 7; i++) sqs.sendMessage('q', { body: `m${i}` });
    const sizes: number[] = [];
    run(settingsFor('q', { batchSize: 5, maxBatchingWindowSeconds: 1 }), async (event) => {
      sizes.push(event.Records.length);
      return ok();
    }, 1);
    await until(() => sizes.reduce((a, b) => a + b, 0) === 7);
    expect(sizes).toEqual([5, 2]);
    expect(left('q')).toBe(0);
  });

  it('leaves failed messages to come back after the visibility timeout, and the redrive policy moves them to the DLQ', async () => {
    const dlq = sqs.createQueue('tasks-dlq.fifo', { FifoQueue: 'true' });
    sqs.createQueue('tasks.fifo', { FifoQueue: 'true', VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }) });
    sqs.sendMessage('tasks.fifo', { body: 'poison', groupId: 'p1', deduplicationId: 'a' });
    sqs.sendMessage('tasks.fifo', { body: 'fine', groupId: 'p1', deduplicationId: 'b' });
    const seen: string[] = [];
    run(settingsFor('tasks.fifo'), async (event) => {
      const record = event.Records[0]!;
      seen.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
      return record.body === 'poison' ? failed() : ok();
    });
    await until(() => seen.includes('fine#1'), 15_000);
    // The group waited for the poison message each time: never `fine` before it was gone.
    expect(seen).toEqual(['poison#1', 'poison#2', 'fine#1']);
    expect(sqs.receive('tasks-dlq.fifo', { maxMessages: 10 }).map((m) => m.body)).toEqual(['poison']);
    expect(logs.some((l) => l.includes('function error Error: boom'))).toBe(true);
  });

  it('deletes only the messages not reported in batchItemFailures; an unknown identifier fails the batch', async () => {
    sqs.createQueue('q', { VisibilityTimeout: '60' });
    for (const body of ['a', 'b', 'c']) sqs.sendMessage('q', { body });
    let calls = 0;
    run(settingsFor('q', { batchSize: 10 }), async (event) => {
      calls++;
      const b = event.Records.find((r) => r.body === 'b')!;
      return ok({ batchItemFailures: [{ itemIdentifier: b.messageId }] });
    }, 1);
    await until(() => calls === 1 && left('q') === 1);
    expect(sqs.getQueueAttributes('q', ['ApproximateNumberOfMessagesNotVisible'])).toEqual({ ApproximateNumberOfMessagesNotVisible: '1' });
    await mapping!.stop();

    sqs.createQueue('r', { VisibilityTimeout: '60' });
    sqs.sendMessage('r', { body: 'x' });
    let invoked = false;
    run(settingsFor('r'), async () => {
      invoked = true;
      return ok({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] });
    });
    await until(() => invoked);
    await mapping!.stop();
    expect(left('r')).toBe(1); // nothing deleted
  });

  it('runs groups in parallel up to the function concurrency, and each group one message at a time, in order', async () => {
    sqs.createQueue('tasks.fifo', { FifoQueue: 'true' });
    const groups = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    for (let window = 0; window < 4; window++) {
      for (const group of groups) sqs.sendMessage('tasks.fifo', { body: `${group}:${window}`, groupId: group, deduplicationId: `${window}-${group}` });
    }
    const inFlight = new Set<string>();
    const order = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    let overlapping = false;
    run(settingsFor('tasks.fifo', { maximumConcurrency: 3 }), async (event) => {
      const [group, window] = event.Records[0]!.body.split(':') as [string, string];
      if (inFlight.has(group)) overlapping = true;
      inFlight.add(group);
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise((r) => setTimeout(r, 15));
      order.set(group, [...(order.get(group) ?? []), Number(window)]);
      inFlight.delete(group);
      running--;
      return ok();
    }, 4);
    await until(() => [...order.values()].reduce((n, w) => n + w.length, 0) === 24);
    expect(overlapping).toBe(false);
    expect(maxRunning).toBe(3); // ScalingConfig.MaximumConcurrency below the function's 4
    for (const group of groups) expect(order.get(group)).toEqual([0, 1, 2, 3]);
    expect(left('tasks.fifo')).toBe(0);
  });

  it('keeps polling a queue that appears later, and stops promptly while long-polling', async () => {
    const invoked: string[] = [];
    sqs.createQueue('placeholder');
    run({ ...settingsFor('placeholder'), queueName: 'later', queueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:later` }, async (event) => {
      invoked.push(event.Records[0]!.body);
      return ok();
    }, 1);
    await new Promise((r) => setTimeout(r, 150));
    sqs.createQueue('later');
    sqs.sendMessage('later', { body: 'hello' });
    await until(() => invoked.length === 1);
    const started = Date.now();
    await mapping!.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(logs.some((l) => l.includes('receive from later failed'))).toBe(true);
  });
});
