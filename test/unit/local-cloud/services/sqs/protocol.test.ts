import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageBatchCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand,
  ListQueuesCommand, PurgeQueueCommand, QueueDoesNotExist, ReceiptHandleIsInvalid, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand,
  SQSClient, type SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { LocalSqs } from '../../../../../infra/local-cloud/services/sqs/models';
import { sqsService } from '../../../../../infra/local-cloud/services/sqs/service';

const ACCOUNT = '000000000000';

describe('SQS JSON protocol, with the AWS SDK v3 client at the edge', () => {
  let dir: string;
  let sqs: LocalSqs;
  let edge: EdgeEndpoint;
  let client: SQSClient;

  const start = async () => {
    sqs = new LocalSqs(path.join(dir, 'sqs.json'), 'us-east-1', ACCOUNT);
    edge = await startEdge(0, new ServiceRegistry([sqsService(sqs)]), () => undefined);
    client = new SQSClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  };
  const stop = async () => {
    client.destroy();
    await edge.close();
    await sqs.close();
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sqs-protocol-'));
    await start();
  });
  afterEach(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(() => 'ok', (e: SQSServiceException & { Code?: string }) => `${e.$metadata.httpStatusCode} ${e.name} (${e.Code}): ${e.message}`);

  it('creates, finds and lists queues; URLs point at the edge', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'tasks.fifo', Attributes: { FifoQueue: 'true', VisibilityTimeout: '90' } }));
    expect(QueueUrl).toBe(`${edge.url}/${ACCOUNT}/tasks.fifo`);
    await client.send(new CreateQueueCommand({ QueueName: 'tasks-dlq.fifo', Attributes: { FifoQueue: 'true' } }));
    expect((await client.send(new GetQueueUrlCommand({ QueueName: 'tasks.fifo' }))).QueueUrl).toBe(QueueUrl);
    expect((await client.send(new ListQueuesCommand({}))).QueueUrls).toEqual([`${edge.url}/${ACCOUNT}/tasks-dlq.fifo`, QueueUrl]);
    const page = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'tasks', MaxResults: 1 }));
    expect(page.QueueUrls).toHaveLength(1);
    const next = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'tasks', MaxResults: 1, NextToken: page.NextToken }));
    expect(next.QueueUrls).toEqual([QueueUrl]);
    expect(next.NextToken).toBeUndefined();
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ FifoQueue: 'true', VisibilityTimeout: '90', QueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:tasks.fifo`, ApproximateNumberOfMessages: '0' });
    // Another host or path prefix naming the same account and queue works too.
    expect((await client.send(new GetQueueAttributesCommand({ QueueUrl: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/tasks.fifo`, AttributeNames: ['VisibilityTimeout'] }))).Attributes)
      .toEqual({ VisibilityTimeout: '90' });
  });

  it('answers errors as SQS does: the JSON type, and the query code the SDK reads from x-amzn-query-error', async () => {
    const missing = client.send(new GetQueueUrlCommand({ QueueName: 'nope' }));
    await expect(missing).rejects.toBeInstanceOf(QueueDoesNotExist);
    expect(await errorOf(client.send(new GetQueueUrlCommand({ QueueName: 'nope' }))))
      .toBe('400 QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue): The specified queue does not exist.');
    expect(await errorOf(client.send(new SendMessageCommand({ QueueUrl: `${edge.url}/111111111111/q`, MessageBody: 'x' }))))
      .toBe('400 QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue): The specified queue does not exist.');
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    expect(await errorOf(client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 }))))
      .toBe('400 InvalidParameterValue (InvalidParameterValue): Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.');
    const invalid = client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'bogus' }));
    await expect(invalid).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
    expect(await errorOf(client.send(new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '5' } }))))
      .toBe('400 QueueNameExists (QueueAlreadyExists): A queue already exists with the same name and a different value for attribute VisibilityTimeout');
    await client.send(new PurgeQueueCommand({ QueueUrl }));
    expect(await errorOf(client.send(new PurgeQueueCommand({ QueueUrl }))))
      .toBe('403 PurgeQueueInProgress (AWS.SimpleQueueService.PurgeQueueInProgress): Only one PurgeQueue operation on q is allowed every 60 seconds.');
  });

  it('sends, receives with attributes, changes visibility and deletes (the SDK checks every MD5)', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    const sent = await client.send(new SendMessageCommand({
      QueueUrl, MessageBody: '{"window":"202612021000","partition":3} ü',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'plan' }, raw: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) } },
    }));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    const { Messages } = await client.send(new ReceiveMessageCommand({
      QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'], MessageAttributeNames: ['All'], VisibilityTimeout: 300,
    }));
    expect(Messages).toHaveLength(1);
    const [message] = Messages!;
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: '{"window":"202612021000","partition":3} ü', MD5OfMessageAttributes: sent.MD5OfMessageAttributes });
    expect(Object.keys(message!.Attributes!).sort()).toEqual(['ApproximateReceiveCount', 'SentTimestamp']);
    expect(message!.MessageAttributes!.kind).toEqual({ DataType: 'String', StringValue: 'plan' });
    expect(Buffer.from(message!.MessageAttributes!.raw!.BinaryValue!)).toEqual(Buffer.from([1, 2, 3]));

    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toBeUndefined();
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle, VisibilityTimeout: 0 }));
    const again = (await client.send(new ReceiveMessageCommand({ QueueUrl, AttributeNames: ['All'] }))).Messages![0]!;
    expect(again.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(again.MessageAttributes).toBeUndefined(); // not asked for
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.ReceiptHandle }));
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('sends and deletes in batches, each entry on its own; a FIFO queue deduplicates and orders per group', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'tasks.fifo', Attributes: { FifoQueue: 'true' } }));
    const entries = [0, 1, 2].map((p) => ({ Id: `p${p}`, MessageBody: JSON.stringify({ window: 'W1', partition: p }), MessageGroupId: `p${p}`, MessageDeduplicationId: `W1-${p}` }));
    const first = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [...entries, { Id: 'bad', MessageBody: 'x', MessageDeduplicationId: 'x' }] }));
    expect(first.Successful?.map((e) => e.Id)).toEqual(['p0', 'p1', 'p2']);
    expect(first.Successful?.every((e) => /^\d{20}$/.test(e.SequenceNumber ?? ''))).toBe(true);
    expect(first.Failed).toEqual([{ Id: 'bad', SenderFault: true, Code: 'MissingParameter', Message: 'The request must contain the parameter MessageGroupId.' }]);
    // The planner running twice for a window: the same deduplication ids, nothing new in the queue.
    const second = await client.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
    expect(second.Successful?.map((e) => e.MessageId)).toEqual(first.Successful?.map((e) => e.MessageId));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ window: 'W2', partition: 0 }), MessageGroupId: 'p0', MessageDeduplicationId: 'W2-0' }));

    const received = (await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }))).Messages!;
    expect(received.map((m) => m.Body)).toEqual([
      '{"window":"W1","partition":0}', '{"window":"W2","partition":0}', '{"window":"W1","partition":1}', '{"window":"W1","partition":2}',
    ]);
    expect(received.map((m) => m.Attributes?.MessageGroupId)).toEqual(['p0', 'p0', 'p1', 'p2']);
    const deleted = await client.send(new DeleteMessageBatchCommand({
      QueueUrl, Entries: [...received.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })), { Id: 'stale', ReceiptHandle: 'bogus' }],
    }));
    expect(deleted.Successful).toHaveLength(4);
    expect(deleted.Failed).toEqual([{ Id: 'stale', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle "bogus" is not a valid receipt handle.' }]);
    expect(await errorOf(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [] }))))
      .toBe('400 EmptyBatchRequest (AWS.SimpleQueueService.EmptyBatchRequest): There should be at least one SendMessageBatchRequestEntry in the request.');
    expect(await errorOf(client.send(new SendMessageBatchCommand({ QueueUrl, Entries: [entries[0]!, entries[0]!] }))))
      .toBe('400 BatchEntryIdsNotDistinct (AWS.SimpleQueueService.BatchEntryIdsNotDistinct): Id p0 repeated.');
  });

  it('long-polls: a waiting ReceiveMessage answers as soon as a message arrives, or empty when the wait is over', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    let started = Date.now();
    const waiting = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    setTimeout(() => void client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'late' })), 100);
    expect((await waiting).Messages?.map((m) => m.Body)).toEqual(['late']);
    expect(Date.now() - started).toBeLessThan(5_000);
    started = Date.now();
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))).Messages).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('keeps queues and messages across a restart', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'kept' }));
    await stop();
    await start();
    const url = `${edge.url}/${ACCOUNT}/q`;
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages?.map((m) => m.Body)).toEqual(['kept']);
  });

  it('refuses query-protocol requests with a pointer to the JSON protocol', async () => {
    const response = await fetch(edge.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListQueues&Version=2012-11-05',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-query-error')).toBe('InvalidAction;Sender');
    expect(await response.json()).toEqual({ __type: 'com.amazonaws.sqs#InvalidAction', message: expect.stringContaining('AWS JSON protocol only') });
  });
});
