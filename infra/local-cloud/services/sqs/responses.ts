import { randomUUID } from 'node:crypto';
import type { BufferedRequest, LocalResponse, ServiceHandler } from '../../aws-protocol/http';
import { AMZ_JSON_1_0, targetOperation } from '../../aws-protocol/json-protocol';
import { invalidParameterValue, missingParameter, queueDoesNotExist, SqsError } from './errors';
import type { LocalSqs } from './models';
import type { MessageAttributeValue, ReceivedMessage, SendInput, SendResult, StoredQueue } from './types';

/**
 * SQS's AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Action>`), which the SDK v3 client and current
 * aws CLI speak. Queues are named by URL: `http://<host the request came to>/<account>/<name>` is what the
 * local cloud hands out; any URL whose last segment is the name (and account, when given, ours) works.
 * Errors carry SQS's JSON type and its query-protocol code in `x-amzn-query-error`, as SQS sends them.
 */

const SERVICE_ERROR_PREFIX = 'com.amazonaws.sqs#';
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_WAIT_SECONDS = 20;

type Input = Record<string, unknown>;

export function sqsHandler(sqs: LocalSqs): ServiceHandler {
  return async (request) => {
    const requestId = randomUUID();
    try {
      if (!(request.headers['content-type'] ?? '').includes('json')) {
        throw new SqsError('InvalidAction', 'InvalidAction', "The local cloud's SQS speaks the AWS JSON protocol only (current AWS SDKs and aws CLI), not the query protocol.");
      }
      let input: unknown;
      try {
        input = JSON.parse(request.body.toString('utf8') || '{}');
      } catch {
        throw new SqsError('SerializationException', 'SerializationException', 'The request body is not valid JSON.');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new SqsError('SerializationException', 'SerializationException', 'The request body must be a JSON object.');
      const output = await dispatch(sqs, targetOperation(request), input as Input, urlBase(request, sqs.accountId));
      // Answer only once the change is on disk: an acknowledged message survives a crash.
      await sqs.flush();
      return { status: 200, headers: { 'content-type': AMZ_JSON_1_0, 'x-amzn-requestid': requestId }, body: JSON.stringify(output) };
    } catch (error) {
      if (error instanceof SqsError) return sqsError(error, requestId);
      throw error;
    }
  };
}

export function sqsError(error: SqsError, requestId: string): LocalResponse {
  return {
    status: error.status,
    headers: {
      'content-type': AMZ_JSON_1_0,
      'x-amzn-requestid': requestId,
      'x-amzn-query-error': `${error.queryCode};Sender`,
    },
    body: JSON.stringify({ __type: `${SERVICE_ERROR_PREFIX}${error.type}`, message: error.message }),
  };
}

/** `http://<host>/<account>`: queue URLs point back at the endpoint the caller used. */
function urlBase(request: BufferedRequest, accountId: string): string {
  return `http://${request.headers.host ?? '127.0.0.1'}/${accountId}`;
}

/** The queue a URL names: its last path segment, if the segment before it (the account) is ours. */
export function queueNameFromUrl(url: string, accountId: string): string {
  let segments: string[];
  try {
    segments = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    throw queueDoesNotExist();
  }
  const name = segments[segments.length - 1];
  const account = segments[segments.length - 2];
  if (!name || (account !== undefined && /^\d{12}$/.test(account) && account !== accountId)) throw queueDoesNotExist();
  return name;
}

async function dispatch(sqs: LocalSqs, operation: string, input: Input, base: string): Promise<unknown> {
  const queueName = () => queueNameFromUrl(requiredString(input, 'QueueUrl'), sqs.accountId);
  const urlOf = (queue: StoredQueue) => `${base}/${queue.name}`;
  switch (operation) {
    case 'CreateQueue':
      return { QueueUrl: urlOf(sqs.createQueue(requiredString(input, 'QueueName'), stringMap(input, 'Attributes'))) };
    case 'GetQueueUrl': {
      const owner = optionalString(input, 'QueueOwnerAWSAccountId');
      if (owner !== undefined && owner !== sqs.accountId) throw queueDoesNotExist();
      return { QueueUrl: urlOf(sqs.queue(requiredString(input, 'QueueName'))) };
    }
    case 'ListQueues':
      return listQueues(sqs, input, urlOf);
    case 'GetQueueAttributes': {
      const names = optionalStringList(input, 'AttributeNames') ?? [];
      const attributes = sqs.getQueueAttributes(queueName(), names);
      return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
    }
    case 'SetQueueAttributes':
      sqs.setQueueAttributes(queueName(), stringMap(input, 'Attributes') ?? {});
      return {};
    case 'DeleteQueue':
      sqs.deleteQueue(queueName());
      return {};
    case 'PurgeQueue':
      sqs.purgeQueue(queueName());
      return {};
    case 'SendMessage':
      return sendResultBody(sqs.sendMessage(queueName(), sendInput(input)));
    case 'SendMessageBatch': {
      const name = queueName();
      sqs.queue(name);
      return batch(input, 'SendMessageBatchRequestEntry', (entry) => sendResultBody(sqs.sendMessage(name, sendInput(entry))));
    }
    case 'ReceiveMessage':
      return receiveMessage(sqs, queueName(), input);
    case 'DeleteMessage':
      sqs.deleteMessage(queueName(), requiredString(input, 'ReceiptHandle'));
      return {};
    case 'DeleteMessageBatch': {
      const name = queueName();
      sqs.queue(name);
      return batch(input, 'DeleteMessageBatchRequestEntry', (entry) => {
        sqs.deleteMessage(name, requiredString(entry, 'ReceiptHandle'));
        return {};
      });
    }
    case 'ChangeMessageVisibility':
      sqs.changeMessageVisibility(queueName(), requiredString(input, 'ReceiptHandle'), requiredInteger(input, 'VisibilityTimeout'));
      return {};
    case 'ChangeMessageVisibilityBatch': {
      const name = queueName();
      sqs.queue(name);
      return batch(input, 'ChangeMessageVisibilityBatchRequestEntry', (entry) => {
        sqs.changeMessageVisibility(name, requiredString(entry, 'ReceiptHandle'), requiredInteger(entry, 'VisibilityTimeout'));
        return {};
      });
    }
    default:
      throw new SqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `The local cloud's SQS does not implement ${operation || 'this operation'}.`);
  }
}

function listQueues(sqs: LocalSqs, input: Input, urlOf: (queue: StoredQueue) => string): unknown {
  const queues = sqs.listQueues(optionalString(input, 'QueueNamePrefix'));
  const max = optionalInteger(input, 'MaxResults');
  if (max === undefined) return queues.length > 0 ? { QueueUrls: queues.slice(0, 1000).map(urlOf) } : {};
  if (max < 1 || max > 1000) throw invalidParameterValue(`Value ${max} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.`);
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw invalidParameterValue('Invalid NextToken value.');
  const page = queues.slice(start, start + max);
  return {
    ...(page.length > 0 ? { QueueUrls: page.map(urlOf) } : {}),
    ...(start + max < queues.length ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}),
  };
}

async function receiveMessage(sqs: LocalSqs, name: string, input: Input): Promise<unknown> {
  const max = optionalInteger(input, 'MaxNumberOfMessages') ?? 1;
  if (max < 1 || max > 10) throw invalidParameterValue(`Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`);
  const visibilityTimeout = optionalInteger(input, 'VisibilityTimeout');
  if (visibilityTimeout !== undefined && (visibilityTimeout < 0 || visibilityTimeout > 43_200)) {
    throw invalidParameterValue(`Value ${visibilityTimeout} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`);
  }
  const queue = sqs.queue(name);
  const wait = optionalInteger(input, 'WaitTimeSeconds') ?? Number(queue.attributes.ReceiveMessageWaitTimeSeconds ?? 0);
  if (wait < 0 || wait > MAX_WAIT_SECONDS) throw invalidParameterValue(`Value ${wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`);
  const systemNames = [...(optionalStringList(input, 'AttributeNames') ?? []), ...(optionalStringList(input, 'MessageSystemAttributeNames') ?? [])];
  const attributeNames = optionalStringList(input, 'MessageAttributeNames') ?? [];

  // Long polling: answer as soon as messages are there, or empty when the wait is over.
  const deadline = Date.now() + wait * 1000;
  let messages: ReceivedMessage[] = [];
  for (;;) {
    try {
      messages = sqs.receive(name, { maxMessages: max, ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}) });
    } catch (error) {
      if (error instanceof SqsError && error.type === 'QueueDoesNotExist' && wait > 0) break; // deleted while waiting
      throw error;
    }
    if (messages.length > 0 || Date.now() >= deadline) break;
    await sqs.waitForMessages(name, deadline - Date.now());
  }
  if (messages.length === 0) return {};
  return { Messages: messages.map((m) => messageBody(m, systemNames, attributeNames)) };
}

function messageBody(message: ReceivedMessage, systemNames: readonly string[], attributeNames: readonly string[]): unknown {
  const allSystem = systemNames.includes('All');
  const attributes = Object.fromEntries(Object.entries(message.attributes).filter(([name]) => allSystem || systemNames.includes(name)));
  const chosen = Object.entries(message.messageAttributes ?? {}).filter(([name]) => attributeNames.some((pattern) => attributeMatches(pattern, name)));
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    // The MD5 covers every attribute of the message, whichever the caller asked for.
    ...(message.md5OfMessageAttributes && chosen.length > 0 ? { MD5OfMessageAttributes: message.md5OfMessageAttributes, MessageAttributes: Object.fromEntries(chosen) } : {}),
  };
}

/** `All`, `.*`, a name, or a prefix (`order.*`), as ReceiveMessage's MessageAttributeNames. */
function attributeMatches(pattern: string, name: string): boolean {
  if (pattern === 'All' || pattern === '.*') return true;
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

function sendResultBody(result: SendResult): Record<string, string> {
  return {
    MessageId: result.messageId,
    MD5OfMessageBody: result.md5OfMessageBody,
    ...(result.md5OfMessageAttributes ? { MD5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
    ...(result.md5OfMessageSystemAttributes ? { MD5OfMessageSystemAttributes: result.md5OfMessageSystemAttributes } : {}),
    ...(result.sequenceNumber ? { SequenceNumber: result.sequenceNumber } : {}),
  };
}

function sendInput(input: Input): SendInput {
  const body = input.MessageBody;
  if (typeof body !== 'string') throw missingParameter('MessageBody');
  const delaySeconds = optionalInteger(input, 'DelaySeconds');
  const groupId = optionalString(input, 'MessageGroupId');
  const deduplicationId = optionalString(input, 'MessageDeduplicationId');
  const attributes = input.MessageAttributes;
  const system = input.MessageSystemAttributes as Record<string, MessageAttributeValue> | undefined;
  const trace = system?.AWSTraceHeader?.StringValue;
  return {
    body,
    ...(delaySeconds !== undefined ? { delaySeconds } : {}),
    ...(attributes && typeof attributes === 'object' ? { messageAttributes: attributes as Record<string, MessageAttributeValue> } : {}),
    ...(typeof trace === 'string' ? { awsTraceHeader: trace } : {}),
    ...(groupId !== undefined ? { groupId } : {}),
    ...(deduplicationId !== undefined ? { deduplicationId } : {}),
  };
}

/** A batch action: 1 to 10 entries with distinct ids; each entry succeeds or fails on its own. */
function batch(input: Input, entryName: string, run: (entry: Input) => Record<string, string>): unknown {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new SqsError('EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest', `There should be at least one ${entryName} in the request.`);
  }
  if (entries.length > 10) {
    throw new SqsError('TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
  }
  const seen = new Set<string>();
  for (const entry of entries as Input[]) {
    const id = entry?.Id;
    if (typeof id !== 'string' || !BATCH_ENTRY_ID.test(id)) {
      throw new SqsError('InvalidBatchEntryId', 'AWS.SimpleQueueService.InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (seen.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
  }
  const successful: unknown[] = [];
  const failed: unknown[] = [];
  for (const entry of entries as Input[]) {
    try {
      successful.push({ Id: entry.Id, ...run(entry) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      failed.push({ Id: entry.Id, SenderFault: true, Code: error.queryCode, Message: error.message });
    }
  }
  return { Successful: successful, Failed: failed };
}

// ---- input checks --------------------------------------------------------------------------------

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  if (typeof value !== 'string') throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a string.`);
  return value;
}

function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a string.`);
  return value;
}

function optionalInteger(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidParameterValue(`Value ${String(value)} for parameter ${name} is invalid. Reason: must be an integer.`);
  return value;
}

function requiredInteger(input: Input, name: string): number {
  const value = optionalInteger(input, name);
  if (value === undefined) throw missingParameter(name);
  return value;
}

function optionalStringList(input: Input, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a list of strings.`);
  return value as string[];
}

function stringMap(input: Input, name: string): Record<string, string> | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameterValue(`Value for parameter ${name} is invalid. Reason: must be a map.`);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}
